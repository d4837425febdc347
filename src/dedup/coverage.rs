//! Which stretches of publication time the story index holds in full: every stored item dated inside a covered
//! span is indexed. A placement asks for the part of its window that is not covered, and the store fills it in.

/// Disjoint, sorted, half-open spans of seconds since the epoch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Coverage(Vec<(i64, i64)>);

impl Coverage {
    /// The parts of `[from, to)` not covered, in order.
    pub(crate) fn missing(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut at = from;
        for &(a, b) in &self.0 {
            if b <= at {
                continue;
            }
            if a >= to {
                break;
            }
            if a > at {
                out.push((at, a));
            }
            at = at.max(b);
            if at >= to {
                return out;
            }
        }
        if at < to {
            out.push((at, to));
        }
        out
    }

    /// Marks `[from, to)` covered.
    pub(crate) fn add(&mut self, from: i64, to: i64) {
        if from >= to {
            return;
        }
        let (mut from, mut to) = (from, to);
        // Spans touching or overlapping the new one merge into it.
        self.0.retain(|&(a, b)| {
            if b < from || a > to {
                return true;
            }
            from = from.min(a);
            to = to.max(b);
            false
        });
        let at = self.0.partition_point(|&(a, _)| a < from);
        self.0.insert(at, (from, to));
    }

    /// Forgets everything before `cutoff` (the index evicted it).
    pub(crate) fn forget_before(&mut self, cutoff: i64) {
        self.0.retain(|&(_, b)| b > cutoff);
        if let Some(first) = self.0.first_mut() {
            first.0 = first.0.max(cutoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_parts_are_the_gaps() {
        let mut c = Coverage::default();
        assert_eq!(c.missing(0, 10), [(0, 10)]);
        c.add(20, 30);
        c.add(40, i64::MAX);
        assert_eq!(c.missing(0, 10), [(0, 10)]);
        assert_eq!(c.missing(15, 45), [(15, 20), (30, 40)]);
        assert_eq!(c.missing(22, 28), []);
        assert_eq!(c.missing(50, 60), []);
        c.add(10, 20);
        c.add(30, 40);
        assert_eq!(c, Coverage(vec![(10, i64::MAX)]));
        c.forget_before(100);
        assert_eq!(c.missing(50, 150), [(50, 100)]);
    }

    #[test]
    fn overlapping_spans_merge() {
        let mut c = Coverage::default();
        c.add(5, 8);
        c.add(1, 3);
        c.add(2, 6);
        assert_eq!(c, Coverage(vec![(1, 8)]));
        c.forget_before(4);
        assert_eq!(c, Coverage(vec![(4, 8)]));
        c.forget_before(9);
        assert_eq!(c, Coverage(vec![]));
    }
}
