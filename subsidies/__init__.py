"""What something costs and why: fee catalogue, rules as data, the evaluator and its explanation, budgets.

Flask-free: it takes a fee and facts and returns a decision; it knows nothing of payments.
"""
