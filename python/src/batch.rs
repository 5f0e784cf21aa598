//! `Policy.decide_many`'s chunks: requests read (with the GIL) and then
//! decided (without it) a chunk at a time, so memory does not grow with the
//! batch and other Python threads run while a chunk is decided.

use crate::convert;
use portcullis::{Request, RequestError};
use pyo3::prelude::*;
use pyo3::types::PyIterator;

/// Requests read, then decided, at a time.
pub(crate) const CHUNK: usize = 64;

type Chunk = Vec<Result<Request, RequestError>>;

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
