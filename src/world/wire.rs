//! Messages on the wire: kept out of the event queue, so that the queue's entries stay a few
//! words long. A binary heap moves entries on every push and pop; a Raft AppendEntries inside
//! each entry made those moves the run's largest cost.

/// A slab of in-flight messages, addressed by slot.
pub(crate) struct Wire<M> {
    slots: Vec<Option<M>>,
    free: Vec<u32>,
}

impl<M> Default for Wire<M> {
    fn default() -> Self {
        Wire {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<M> Wire<M> {
    /// Puts a message on the wire; returns its slot.
    #[inline]
    pub(crate) fn put(&mut self, msg: M) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot as usize].is_none());
                self.slots[slot as usize] = Some(msg);
                slot
            }
            None => {
                self.slots.push(Some(msg));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Takes a message off the wire; its slot is reused.
    #[inline]
    pub(crate) fn take(&mut self, slot: u32) -> M {
        let msg = self.slots[slot as usize]
            .take()
            .expect("each slot is taken once");
        self.free.push(slot);
        msg
    }

    /// Messages still on the wire.
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_messages_come_back_intact() {
        let mut w = Wire::default();
        let a = w.put("a");
        let b = w.put("b");
        assert_eq!(w.take(a), "a");
        let c = w.put("c");
        assert_eq!(c, a, "the freed slot is reused");
        assert_eq!((w.take(b), w.take(c)), ("b", "c"));
        assert_eq!(w.len(), 0);
    }
}
