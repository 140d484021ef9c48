"""Two simulated guests changing at once must not deadlock the stand-in (parallel builds)."""

import threading

from standin.machine_lock import MachineLock


def test_changes_in_two_machines_at_once_both_get_through():
    store = threading.RLock()  # the stand-in's store lock, taken by every port re-sync
    machines = [MachineLock(), MachineLock()]
    both_inside = threading.Barrier(2)
    synced = []

    def sync_all_ports():  # as Standin.sync_hosts: the store, then each machine in turn
        with store:
            for machine in machines:
                with machine:
                    pass
        synced.append(True)

    def guest_change(machine):  # as install_feature: a write under the machine's own lock
        with machine:
            both_inside.wait(timeout=10)
            machine.notify(sync_all_ports)
        assert synced, "the change was reported before the call returned"

    threads = [threading.Thread(target=guest_change, args=(m,), daemon=True) for m in machines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert len(synced) == 2


def test_a_change_outside_the_lock_is_reported_at_once():
    calls = []
    MachineLock().notify(lambda: calls.append(1))
    assert calls == [1]
