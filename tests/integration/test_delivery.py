"""The delivery pipeline under load, with the C load generator (build/loadgen)
driving real WebSockets: nothing lost or duplicated, healthy clients never cut
in a burst, a client that stopped reading cut. Correctness only: no timing is
asserted (performance is `make bench`)."""

from harness import Server, has, join, run_loadgen, uname


def _clean(report):
    """The parts of a loadgen report that must be zero or complete."""
    return {"lost": report["lost"], "duplicated": report["duplicated"],
            "closes": report["closes"], "setup_failures": report["setup_failures"],
            "acks_missing": report["acks_expected"] - report["acks_received"],
            "errors": {k: v for k, v in report["errors"].items() if v}}


CLEAN = {"lost": 0, "duplicated": 0, "closes": {}, "setup_failures": {}, "acks_missing": 0,
         "errors": {}}


def test_loadgen_tiny_scenario_delivers_every_message_once():
    with Server(label="loadgen-tiny") as srv:
        status, report = run_loadgen(srv, "--clients", 10, "--senders", 2, "--messages", 20)
        assert _clean(report) == CLEAN, report
        assert report["deliveries_expected"] == 10 * 2 * 20, report
        assert report["deliveries_received"] == report["deliveries_expected"], report
        assert status == 0, report


def test_burst_of_100_clients_sending_at_once_cuts_nobody_and_acks_everything():
    """A class answering a question: every client sends 3 messages at the same
    moment (S9 at 100 clients)."""
    with Server(label="burst") as srv:
        status, report = run_loadgen(srv, "--clients", 100, "--burst", "--messages", 3)
        assert _clean(report) == CLEAN, report
        assert report["acks_received"] == 300, report
        assert report["deliveries_received"] == 100 * 300, report
        assert status == 0, report
        if has("metrics"):
            assert srv.metrics()["lanchat_ws_slow_consumers_total"] == 0


def test_a_stalled_reader_is_cut_while_the_others_get_everything():
    """S8 at small scale: one client joined the room and stopped reading (a
    4 KiB receive buffer, never read) while 20 others receive 1.9 MB of
    messages from 4 senders at 200 messages/s each; a room's feed is at most
    1 MiB, so the stalled one falls a feed behind and is cut, and nobody else
    is. (Senders flooding faster than the readers can read would cut those
    readers too, once a whole feed behind: the rule is bytes, not health.)"""
    with Server(label="stalled-reader") as srv:
        token = srv.session(uname("stall"))
        stalled = srv.ws(token, rcvbuf=4096)
        join(stalled, "general")  # from here on, never read
        status, report = run_loadgen(srv, "--clients", 20, "--senders", 4, "--messages", 300,
                                     "--body-bytes", 1500, "--rate", 200)
        assert _clean(report) == CLEAN, report
        assert report["deliveries_received"] == 20 * 4 * 300, report
        assert status == 0, report
        kind, code = stalled.read_until_closed(timeout=30)
        assert (kind, code) in (("close", 1008), ("eof", None)), (kind, code)
        if has("metrics"):
            assert srv.metrics()["lanchat_ws_slow_consumers_total"] == 1
