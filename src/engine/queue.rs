//! The event queue: a binary heap keyed on (time, phase, sequence).
//!
//! Time is integer seconds; `phase` orders different kinds of events that
//! fall on the same second (see [`super::event::Event::phase`]); the sequence
//! number makes equal (time, phase) pairs first-in first-out. The three are
//! packed into one `u128` (time in the high 64 bits, phase in the next 8,
//! sequence in the low 56) so a comparison is a single integer compare.
//! Popping never goes back in time, and scheduling before the last popped
//! key is refused.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::event::Event;

#[derive(Debug)]
struct Entry {
    key: u128,
    event: Event,
}

fn pack(time: u64, phase: u8, seq: u64) -> u128 {
    ((time as u128) << 64) | ((phase as u128) << 56) | (seq as u128 & ((1 << 56) - 1))
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse for earliest-first.
        other.key.cmp(&self.key)
    }
}

/// A priority queue of timestamped events with deterministic tie-breaking.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
    last: u128,
}

impl EventQueue {
    /// An empty queue at time zero.
    pub fn new() -> EventQueue {
        EventQueue::default()
    }

    /// Empties the queue and resets the clock, keeping its allocation.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.next_seq = 0;
        self.last = 0;
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// If (time, phase) is earlier than the last event popped: the engine
    /// computes every time from the current one, so this is a bug, not input.
    pub fn schedule(&mut self, time: u64, event: Event) {
        let key = pack(time, event.phase(), self.next_seq);
        assert!(key >> 56 >= self.last >> 56, "event {event:?} scheduled in the past");
        self.heap.push(Entry { key, event });
        self.next_seq += 1;
    }

    /// Removes and returns the earliest event with its time.
    pub fn pop(&mut self) -> Option<(u64, Event)> {
        let e = self.heap.pop()?;
        self.last = e.key;
        Some(((e.key >> 64) as u64, e.event))
    }

    /// (time, phase) of the earliest pending event.
    pub fn peek_key(&self) -> Option<(u64, u8)> {
        self.heap.peek().map(|e| ((e.key >> 64) as u64, (e.key >> 56) as u8))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_phase_then_fifo() {
        let mut q = EventQueue::new();
        q.schedule(10, Event::QuarterStart { quarter: 1 });
        q.schedule(
            10,
            Event::ShipmentArrival {
                line: 0,
                chip: 0,
                chips: 1,
            },
        );
        q.schedule(5, Event::QuarterStart { quarter: 0 });
        q.schedule(
            10,
            Event::ShipmentArrival {
                line: 1,
                chip: 0,
                chips: 2,
            },
        );
        let order: Vec<Event> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec![
                Event::QuarterStart { quarter: 0 },
                Event::ShipmentArrival {
                    line: 0,
                    chip: 0,
                    chips: 1
                },
                Event::ShipmentArrival {
                    line: 1,
                    chip: 0,
                    chips: 2
                },
                Event::QuarterStart { quarter: 1 },
            ]
        );
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn refuses_the_past() {
        let mut q = EventQueue::new();
        q.schedule(10, Event::QuarterStart { quarter: 1 });
        q.pop();
        q.schedule(9, Event::QuarterStart { quarter: 0 });
    }
}
