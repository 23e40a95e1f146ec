//! The deadlines of the work running now: a request's, or a rollback's. AWS calls made for that work wait for
//! their turns in an account's pace and retry throttled answers until `calls` (`aws::pace`); a request answers
//! by `answer` even when its rollback goes on. A call made outside any (the cleaner, start-up) gets the default
//! of its client.

use std::future::Future;
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// When the work's AWS calls stop waiting for turns and retrying throttled answers.
    pub calls: Instant,
    /// When a request must answer, if the work is a request's.
    pub answer: Option<Instant>,
}

tokio::task_local! {
    static DEADLINE: Deadline;
}

/// Runs `work` under `deadline`. The work is boxed: workflows are large futures, and the ones that are spawned
/// would otherwise be moved whole across the stack.
pub async fn within<F: Future>(deadline: Deadline, work: F) -> F::Output {
    DEADLINE.scope(deadline, Box::pin(work)).await
}

/// The deadline of the work running now, if it has one.
pub fn current() -> Option<Deadline> {
    DEADLINE.try_with(|d| *d).ok()
}

/// Runs `work` under the deadline of the work that spawns it (a task does not inherit it by itself).
pub fn inherit<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let deadline = current();
    let work = Box::pin(work);
    async move {
        match deadline {
            Some(d) => within(d, work).await,
            None => work.await,
        }
    }
}
