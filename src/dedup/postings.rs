//! One token's postings: the keys (`time << 32 | slot`) of the indexed items containing it, in order.
//!
//! A first poll meets every outlet's backlog at once, in no particular time order, so most keys go into the
//! middle of their lists. With one flat vector per token, inserting into a list of the words every item uses
//! shifted tens of kilobytes each time (`memmove` was half the cost of `StoryIndex::insert` on the 10 000-item
//! round). A list longer than [`FLAT_MAX`] is therefore kept in sorted blocks of [`BLOCK`]–2×[`BLOCK`] keys (every
//! key of a block below every key of the next): an insertion shifts at most one block. Short lists — nearly
//! all of them — stay one vector, so the vocabulary costs no more memory than before.

/// Keys per block once a list is split; a block is split again when it doubles.
const BLOCK: usize = 256;

/// Lists up to this long stay one vector.
const FLAT_MAX: usize = 2 * BLOCK;

/// A token's postings, sorted.
#[derive(Debug)]
pub(super) enum Postings {
    Flat(Vec<u64>),
    /// Non-empty sorted blocks, in order; `len` keys in all. `lasts` holds each block's last key, so that finding
    /// a block reads one dense array rather than a cache line of every block it passes.
    Blocks {
        blocks: Vec<Vec<u64>>,
        lasts: Vec<u64>,
        len: usize,
    },
}

impl Default for Postings {
    fn default() -> Self {
        Postings::Flat(Vec::new())
    }
}

impl Postings {
    pub(super) fn len(&self) -> usize {
        match self {
            Postings::Flat(keys) => keys.len(),
            Postings::Blocks { len, .. } => *len,
        }
    }

    /// Adds `key` in order (new items mostly arrive in time order: then it is a push).
    pub(super) fn insert(&mut self, key: u64) {
        match self {
            Postings::Flat(keys) => {
                insert_sorted(keys, key);
                if keys.len() > FLAT_MAX {
                    let blocks: Vec<Vec<u64>> = keys.chunks(BLOCK).map(<[u64]>::to_vec).collect();
                    *self = Postings::Blocks {
                        lasts: lasts_of(&blocks),
                        blocks,
                        len: FLAT_MAX + 1,
                    };
                }
            }
            Postings::Blocks { blocks, lasts, len } => {
                let b = block_of(lasts, key);
                insert_sorted(&mut blocks[b], key);
                lasts[b] = lasts[b].max(key);
                *len += 1;
                if blocks[b].len() >= 2 * BLOCK {
                    let upper = blocks[b].split_off(BLOCK);
                    lasts.insert(b, blocks[b][BLOCK - 1]);
                    blocks.insert(b + 1, upper);
                }
            }
        }
    }

    /// Keeps the keys `keep` accepts.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        match self {
            Postings::Flat(keys) => keys.retain(|&k| keep(k)),
            Postings::Blocks { blocks, lasts, len } => {
                for block in blocks.iter_mut() {
                    block.retain(|&k| keep(k));
                }
                blocks.retain(|block| !block.is_empty());
                *lasts = lasts_of(blocks);
                *len = blocks.iter().map(Vec::len).sum();
                if *len <= FLAT_MAX {
                    *self = Postings::Flat(blocks.concat());
                }
            }
        }
    }

    /// Hands `f` the `cap` keys nearest to `mid` in list order — the `cap / 2` before it and the rest from it on,
    /// shifted to stay inside the list — as one or more sorted slices, in no particular order. (The same keys
    /// as `list[start..start + cap]` with `start = (i - cap / 2).clamp(0, len - cap)`, `i` the position of `mid`.)
    pub(super) fn near(&self, mid: u64, cap: usize, mut f: impl FnMut(&[u64])) {
        match self {
            Postings::Flat(keys) => {
                let i = keys.partition_point(|&k| k < mid);
                let start = i
                    .saturating_sub(cap / 2)
                    .min(keys.len().saturating_sub(cap));
                f(&keys[start..(start + cap).min(keys.len())]);
            }
            Postings::Blocks { blocks, lasts, .. } => {
                let b = block_of(lasts, mid);
                let i = blocks[b].partition_point(|&k| k < mid);
                // Backwards from (b, i): up to cap / 2 keys.
                let mut back = Cursor { block: b, at: i };
                let before = back.take_back(blocks, cap / 2, &mut f);
                // Forwards from (b, i): the rest.
                let after = Cursor { block: b, at: i }.take_forward(blocks, cap - before, &mut f);
                // Near the end of the list: more from before.
                if before + after < cap {
                    back.take_back(blocks, cap - before - after, &mut f);
                }
            }
        }
    }
}

/// A position between two keys of a block list: before key `at` of block `block`.
struct Cursor {
    block: usize,
    at: usize,
}

impl Cursor {
    /// Hands `f` up to `n` keys before the cursor and moves it back past them; returns how many.
    fn take_back(&mut self, blocks: &[Vec<u64>], n: usize, f: &mut impl FnMut(&[u64])) -> usize {
        let mut taken = 0;
        loop {
            let k = (n - taken).min(self.at);
            if k > 0 {
                f(&blocks[self.block][self.at - k..self.at]);
                self.at -= k;
                taken += k;
            }
            if taken == n || self.block == 0 {
                return taken;
            }
            self.block -= 1;
            self.at = blocks[self.block].len();
        }
    }

    /// Hands `f` up to `n` keys from the cursor on; returns how many.
    fn take_forward(mut self, blocks: &[Vec<u64>], n: usize, f: &mut impl FnMut(&[u64])) -> usize {
        let mut taken = 0;
        loop {
            let block = &blocks[self.block];
            let k = (n - taken).min(block.len() - self.at);
            if k > 0 {
                f(&block[self.at..self.at + k]);
                taken += k;
            }
            if taken == n || self.block + 1 == blocks.len() {
                return taken;
            }
            self.block += 1;
            self.at = 0;
        }
    }
}

/// The first block whose last key is not below `key`, or the last block.
fn block_of(lasts: &[u64], key: u64) -> usize {
    lasts
        .partition_point(|&last| last < key)
        .min(lasts.len() - 1)
}

fn lasts_of(blocks: &[Vec<u64>]) -> Vec<u64> {
    blocks
        .iter()
        .map(|block| *block.last().expect("blocks are never empty"))
        .collect()
}

fn insert_sorted(keys: &mut Vec<u64>, key: u64) {
    if keys.last().is_none_or(|&last| last < key) {
        keys.push(key);
    } else {
        let at = keys.partition_point(|&k| k < key);
        keys.insert(at, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the flat list gives for `near`, sorted.
    fn reference(sorted: &[u64], mid: u64, cap: usize) -> Vec<u64> {
        let i = sorted.partition_point(|&k| k < mid);
        let start = i
            .saturating_sub(cap / 2)
            .min(sorted.len().saturating_sub(cap));
        sorted[start..(start + cap).min(sorted.len())].to_vec()
    }

    fn near_sorted(p: &Postings, mid: u64, cap: usize) -> Vec<u64> {
        let mut out = Vec::new();
        p.near(mid, cap, |s| {
            assert!(s.windows(2).all(|w| w[0] <= w[1]));
            out.extend_from_slice(s)
        });
        out.sort_unstable();
        out
    }

    #[test]
    fn a_long_list_is_split_into_blocks_and_reads_like_a_flat_one() {
        let mut p = Postings::default();
        // Keys in a scrambled order, as a first poll's backlog arrives.
        let keys: Vec<u64> = (0..5000u64).map(|i| (i * 7919) % 5003).collect();
        for &k in &keys {
            p.insert(k);
        }
        let Postings::Blocks { blocks, lasts, .. } = &p else {
            panic!("a long list is split")
        };
        assert_eq!(*lasts, lasts_of(blocks));
        assert!(blocks.iter().all(|b| !b.is_empty() && b.len() < 2 * BLOCK));
        assert_eq!(p.len(), keys.len());
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        for (mid, cap) in [
            (0, 64),
            (2500, 64),
            (5003, 64),
            (4990, 64),
            (3, 64),
            (2500, 5000),
            (2500, 1),
        ] {
            assert_eq!(
                near_sorted(&p, mid, cap),
                reference(&sorted, mid, cap),
                "{mid} {cap}"
            );
        }
        p.retain(|k| k % 10 == 0);
        assert!(matches!(p, Postings::Flat(_)), "short again: one vector");
        sorted.retain(|k| k % 10 == 0);
        assert_eq!(near_sorted(&p, 2500, 64), reference(&sorted, 2500, 64));
    }

    proptest! {
        #[test]
        fn near_gives_the_keys_of_the_flat_window(
            keys in proptest::collection::vec(0u64..3000, 0..2500),
            mid in 0u64..3100,
            cap in 1usize..700,
            drop_every in 2u64..9,
        ) {
            let mut p = Postings::default();
            for &k in &keys {
                p.insert(k);
            }
            if let Postings::Blocks { blocks, lasts, .. } = &p {
                prop_assert_eq!(lasts, &lasts_of(blocks));
            }
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            prop_assert_eq!(p.len(), sorted.len());
            prop_assert_eq!(near_sorted(&p, mid, cap), reference(&sorted, mid, cap));
            p.retain(|k| k % drop_every != 0);
            sorted.retain(|k| k % drop_every != 0);
            prop_assert_eq!(p.len(), sorted.len());
            prop_assert_eq!(near_sorted(&p, mid, cap), reference(&sorted, mid, cap));
        }
    }
}
