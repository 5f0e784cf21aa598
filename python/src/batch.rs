//! `Policy.decide_many` on several cores: this thread reads requests (it
//! holds the GIL, which reading Python objects needs) while worker threads
//! decide the chunks already read. Chunks go to the workers in turn and
//! come back in the order they were sent, so decisions keep the order of
//! the requests.

use crate::{convert, DataFor, Decision, Policy};
use portcullis::{Decision as RustDecision, Request, RequestError};
use pyo3::prelude::*;
use pyo3::types::PyIterator;
use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Requests read (and decided) at a time.
pub(crate) const CHUNK: usize = 64;
/// More deciding threads than this only wait for the reading thread.
pub(crate) const MAX_WORKERS: usize = 8;
/// Chunks a worker may hold, read but not yet collected.
const IN_FLIGHT: usize = 2;

type Chunk = Vec<Result<Request, RequestError>>;

/// One worker per core beside the reading thread (none on one core).
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .min(MAX_WORKERS)
}

/// Up to `CHUNK` requests, converted; fewer only at the end.
pub(crate) fn read_chunk(items: &mut Bound<'_, PyIterator>, depth: usize) -> PyResult<Chunk> {
    let mut chunk = Vec::with_capacity(CHUNK);
    while chunk.len() < CHUNK {
        match items.next() {
            Some(request) => chunk.push(convert::request(&request?, depth)),
            None => break,
        }
    }
    Ok(chunk)
}

/// A worker's two ends: chunks in, decisions out.
struct Lane {
    to: SyncSender<Chunk>,
    from: Option<Receiver<Vec<RustDecision>>>,
}

/// Decides `first` and the rest of `items` on `workers` threads, appending
/// the decisions to `out` in order.
pub(crate) fn pipeline(
    py: Python<'_>,
    policy: &Policy,
    data: &DataFor,
    workers: usize,
    first: Chunk,
    items: &mut Bound<'_, PyIterator>,
    out: &mut Vec<Decision>,
) -> PyResult<()> {
    let depth = policy.depth();
    std::thread::scope(|scope| {
        let mut lanes: Vec<Lane> = (0..workers.max(1))
            .map(|_| {
                let (to, chunks) = sync_channel::<Chunk>(IN_FLIGHT);
                let (done, from) = sync_channel::<Vec<RustDecision>>(IN_FLIGHT);
                scope.spawn(move || {
                    for chunk in chunks {
                        let decided = chunk
                            .into_iter()
                            .map(|r| policy.decide_one(r, data))
                            .collect();
                        if done.send(decided).is_err() {
                            break;
                        }
                    }
                });
                Lane {
                    to,
                    from: Some(from),
                }
            })
            .collect();
        // Lanes of the chunks sent and not yet collected, oldest first.
        let mut sent: VecDeque<usize> = VecDeque::new();
        let mut next_lane = 0;
        let mut chunk = first;
        loop {
            let last = chunk.len() < CHUNK;
            if !chunk.is_empty() {
                if sent.len() >= lanes.len() * IN_FLIGHT {
                    collect_oldest(py, &mut lanes, &mut sent, out)?;
                }
                // Never blocks: the lane holds fewer than IN_FLIGHT chunks.
                let lane = lanes.get(next_lane).ok_or_else(lost)?;
                lane.to.send(chunk).map_err(|_| lost())?;
                sent.push_back(next_lane);
                next_lane = (next_lane + 1) % lanes.len();
            }
            if last {
                break;
            }
            chunk = match read_chunk(items, depth) {
                Ok(c) => c,
                // Dropping the lanes ends the workers; the scope joins them.
                Err(e) => return Err(e),
            };
        }
        while !sent.is_empty() {
            collect_oldest(py, &mut lanes, &mut sent, out)?;
        }
        Ok(())
    })
}

/// Waits, without the GIL, for the oldest chunk sent, and appends its
/// decisions.
fn collect_oldest(
    py: Python<'_>,
    lanes: &mut [Lane],
    sent: &mut VecDeque<usize>,
    out: &mut Vec<Decision>,
) -> PyResult<()> {
    let i = sent.pop_front().ok_or_else(lost)?;
    let lane = lanes.get_mut(i).ok_or_else(lost)?;
    let from = lane.from.take().ok_or_else(lost)?;
    // A receiver may not be shared across threads, only moved.
    let (from, decided) = py.detach(move || {
        let decided = from.recv();
        (from, decided)
    });
    lane.from = Some(from);
    out.extend(
        decided
            .map_err(|_| lost())?
            .into_iter()
            .map(|inner| Decision { inner }),
    );
    Ok(())
}

/// A worker that stopped before answering (it cannot, short of a bug):
/// the batch raises rather than return fewer decisions than requests, which
/// would pair a decision with the wrong request.
fn lost() -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err("decide_many: a deciding thread stopped")
}
