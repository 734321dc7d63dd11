"""Across every transition above (0 -> 1, 1 -> N, N -> 0, async from 0), no request failed."""


def test_no_user_request_failed_across_the_run(ledger):
    assert ledger.sent > 0, "the earlier e2e tests sent no request: the run is incomplete"
    assert ledger.failures == []
