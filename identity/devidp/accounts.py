"""Demo accounts of the stand-in: citizens covering the fee and subsidy cases, and one staff member per role.

The numbers follow the 12-digit layout (3 digits birth-registration province, 1 digit century and sex,
2 digits year of birth, 6 serial digits) but belong to nobody. Commune codes are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass

from identity.roles import FINANCE_APPROVER, FINANCE_OFFICER, POLICY_APPROVER, POLICY_EDITOR, SYSTEM_ADMIN


@dataclass(frozen=True)
class DemoCitizen:
    """A citizen the stand-in can log in."""

    subject: str
    personal_id: str
    name: str
    birthdate: str
    province: str
    commune: str
    level: int
    #: Who this account is for in demos (shown on the stand-in's login page).
    note: str
    locked: bool = False


@dataclass(frozen=True)
class DemoStaff:
    """A member of staff the stand-in can log in; the gateway seeds their role."""

    subject: str
    name: str
    email: str
    role: str


CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen("c0a1f3e2-hn-l2", "001085012345", "Nguyễn Văn An", "1985-03-14", "01", "00004", 2,
                "Cư dân Hà Nội, định danh mức 2"),
    DemoCitizen("c0b2e4d3-hn-l1", "001192034567", "Trần Thị Bình", "1992-07-02", "01", "00007", 1,
                "Cư dân Hà Nội, định danh mức 1"),
    DemoCitizen("c0c3d5c4-hcm-l2", "079090045678", "Lê Minh Châu", "1990-11-20", "79", "26734", 2,
                "Cư dân TP Hồ Chí Minh (mã 79), định danh mức 2"),
    DemoCitizen("c0d4c6b5-child", "001316056789", "Phạm Gia Hân", "2016-05-09", "01", "00004", 2,
                "Trẻ em (sinh năm 2016), cư dân Hà Nội"),
    DemoCitizen("c0e5b7a6-elder", "001048067890", "Hoàng Văn Đức", "1948-01-25", "01", "00010", 2,
                "Người cao tuổi (sinh năm 1948), cư dân Hà Nội"),
    DemoCitizen("c0f6a897-student", "031305078901", "Vũ Thu Trang", "2005-09-30", "01", "00007", 2,
                "Sinh viên (sinh năm 2005), cư dân Hà Nội"),
    DemoCitizen("c0a7b9c8-locked", "001088089012", "Đỗ Văn Khóa", "1988-12-12", "01", "00004", 2,
                "Tài khoản bị khóa: đăng nhập bị từ chối", locked=True),
)

STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("staff-finance-officer", "Ngô Thị Thu", "thu.nt@demo.gov.vn", FINANCE_OFFICER),
    DemoStaff("staff-finance-approver", "Đặng Văn Phúc", "phuc.dv@demo.gov.vn", FINANCE_APPROVER),
    DemoStaff("staff-policy-editor", "Bùi Thị Lan", "lan.bt@demo.gov.vn", POLICY_EDITOR),
    DemoStaff("staff-policy-approver", "Trịnh Quốc Huy", "huy.tq@demo.gov.vn", POLICY_APPROVER),
    DemoStaff("staff-system-admin", "Lý Minh Quân", "quan.lm@demo.gov.vn", SYSTEM_ADMIN),
)

DemoAccount = DemoCitizen | DemoStaff


def find_account(subject: str) -> DemoAccount | None:
    """Return the demo account with this subject."""
    return next((a for a in (*CITIZENS, *STAFF) if a.subject == subject), None)
