import Dispatch

/// A task executor on a thread of its own (a serial dispatch queue), for
/// one lane of a live run. The environment's calls block on the network
/// (SSH, LDAP); run on Swift's cooperative pool, which has one thread per
/// core, four lanes on two cores would take turns. With this preference a
/// lane's nonisolated work runs on its own thread, so lanes really overlap;
/// the engine's own bookkeeping still runs on the engine actor.
final class LaneExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: the queue is the only state, and it is thread-safe.
    private let queue: DispatchQueue

    init(lane: Int) {
        queue = DispatchQueue(label: "relevo.lane.\(lane)")
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
