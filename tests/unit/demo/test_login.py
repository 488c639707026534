"""Logins: CSRF, the lock after wrong attempts, refused logins, idle sessions (fake clock)."""

from etawatch.demo.application.login import LoginOutcome, attempt_login
from etawatch.demo.application.sessions import LoginGuard, SessionStore
from etawatch.demo.domain.faults import FaultSwitches


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def attempt(
    guard: LoginGuard,
    password: str,
    *,
    csrf: str = "t",
    switches: FaultSwitches | None = None,
) -> LoginOutcome:
    return attempt_login(
        guard,
        switches or FaultSwitches(),
        expected_user="shop",
        expected_password="secret",
        expected_csrf="t",
        username="shop",
        password=password,
        csrf_token=csrf,
    )


def test_five_wrong_attempts_in_a_row_lock_the_account_for_a_while() -> None:
    clock = FakeClock()
    guard = LoginGuard(5, 300, clock)
    assert [attempt(guard, "wrong") for _ in range(4)] == [LoginOutcome.INVALID] * 4
    assert attempt(guard, "wrong") is LoginOutcome.LOCKED
    assert attempt(guard, "secret") is LoginOutcome.LOCKED
    clock.now += 301
    assert attempt(guard, "secret") is LoginOutcome.SUCCESS


def test_a_success_restarts_the_count() -> None:
    guard = LoginGuard(5, 300, FakeClock())
    for _ in range(4):
        attempt(guard, "wrong")
    assert attempt(guard, "secret") is LoginOutcome.SUCCESS
    assert [attempt(guard, "wrong") for _ in range(4)] == [LoginOutcome.INVALID] * 4


def test_a_bad_token_or_a_refused_login_does_not_count() -> None:
    guard = LoginGuard(2, 300, FakeClock())
    refuse = FaultSwitches(refuse_login=True)
    for _ in range(5):
        assert attempt(guard, "wrong", csrf="forged") is LoginOutcome.BAD_CSRF
        assert attempt(guard, "secret", switches=refuse) is LoginOutcome.INVALID
    assert attempt(guard, "secret") is LoginOutcome.SUCCESS
    no_session = attempt_login(
        guard,
        FaultSwitches(),
        expected_user="shop",
        expected_password="secret",
        expected_csrf=None,
        username="shop",
        password="secret",
        csrf_token="",
    )
    assert no_session is LoginOutcome.BAD_CSRF


def test_an_idle_session_expires_and_a_used_one_does_not() -> None:
    clock = FakeClock()
    store = SessionStore(60, clock)
    idle, used = store.new("shop"), store.new("shop")
    for _ in range(3):
        clock.now += 40
        assert store.get(used.id) is used
    assert store.get(idle.id) is None
    assert store.get(None) is None and store.get("forged") is None
    store.drop(used.id)
    assert store.get(used.id) is None
