//! Running one decomposition per matrix of a stack, in parallel across the stack.
//!
//! The decompositions share one shape of loop: each batch position's views are found from the
//! operands' batch strides, each task gets its own workspace, and a failure (a singular or
//! non-positive-definite matrix, non-convergence) is reported with the first failing batch
//! index, whatever the thread schedule. That loop lives here once.

use crate::error::Result;
use crate::strided::BatchOffsets;
use crate::threads::Par;
use crate::workspace;
use faer::dyn_stack::{MemStack, StackReq};
use std::sync::Mutex;

/// Calls `one(offsets, stack)` for every position of `batch` (the operands' element offsets,
/// from their batch `strides`), in parallel ranges across `par`'s threads when the batch has
/// more than one matrix. Each range gets a workspace of `scratch` bytes. Returns the first batch
/// index (in batch order) for which `one` returned `Err`, if any; the positions after a failure
/// in the same range are skipped. A workspace the system refuses gives `Error::Memory`.
pub(crate) fn for_each_matrix<const N: usize>(
    batch: &[usize],
    strides: [&[isize]; N],
    work_per_item: usize,
    scratch: StackReq,
    par: Par,
    one: &(dyn Fn([isize; N], &mut MemStack) -> core::result::Result<(), ()> + Sync),
) -> Result<Option<usize>> {
    let nbatch: usize = batch.iter().product();
    let failed = Mutex::new(None::<usize>);
    let refused = Mutex::new(None);
    let run = |start: usize, count: usize| {
        let mut buf = match workspace::buffer(scratch) {
            Ok(buf) => buf,
            Err(err) => {
                *refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
                return;
            }
        };
        let stack = MemStack::new(&mut buf);
        for (i, offs) in BatchOffsets::new(batch, strides, start, count).enumerate() {
            if one(offs, stack).is_err() {
                let mut first = failed.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none_or(|j| start + i < j) {
                    *first = Some(start + i);
                }
                return;
            }
        }
    };
    match nbatch {
        0 => {}
        1 => run(0, 1),
        _ => par.for_batch(nbatch, work_per_item.max(1), &|start, count| run(start, count)),
    }
    if let Some(err) = refused.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(err);
    }
    Ok(failed.into_inner().unwrap_or_else(|p| p.into_inner()))
}
