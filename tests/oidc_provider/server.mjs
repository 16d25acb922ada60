// A certified OpenID Provider (panva/oidc-provider) on loopback for the relying-party interop tests.
// Usage: node server.mjs config.json   (the Python fixture writes the config: keys, clients, accounts)
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  jwks: config.jwks,
  clients: config.clients,
  cookies: { keys: [config.cookieKey] },
  pkce: { required: () => true },
  acrValues: config.acrValues,
  scopes: ['openid', 'profile', 'vneid'],
  claims: {
    openid: ['sub'],
    acr: null,
    profile: ['name', 'birthdate'],
    vneid: ['so_dinh_danh', 'ma_tinh_thuong_tru', 'ma_xa_thuong_tru'],
  },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;
provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
