from tests.core.policy_helpers import at  # noqa: F401 (the moving clock fixture for every core test)
