//! `anchor`: AnchorHash (Mendelson, Vargaftik, Barabash, Lorenz, Keslassy & Orda, "AnchorHash:
//! A Scalable Consistent Hash", IEEE/ACM ToN 2021). A fixed anchor set of `a` buckets, of which
//! the working ones hold nodes. A key hashes to a bucket; if that bucket was removed, the key
//! is rehashed into the buckets that were working when it was removed, following the
//! replacement chain, until it lands on a working bucket. Any node can leave; a joining node
//! takes the most recently removed bucket, so removing then re-adding a node restores its keys
//! exactly. Lookups cost O(1 + ln(a/w)) expected steps; `a` bounds the number of nodes
//! (`anchor_capacity`, default max(2N, 16)).

use super::{
    HashingError, HashingParams, Node, NodeId, NodeSet, Placement, fast_range, mix64, node_set_bytes, require_uniform,
    vec_bytes,
};

const BUCKET_SEED_STEP: u64 = 0x9E37_79B9_7F4A_7C15;

/// AnchorHash. Field names follow the paper: `a` (A) holds, for a removed bucket, the size of
/// the working set just after it left (0 for a working bucket); `r` (R) is the stack of removed
/// buckets; `w`, `l` and `k` (W, L, K) are the working list, its inverse, and the successor
/// chain.
#[derive(Clone, Debug)]
pub struct Anchor {
    nodes: NodeSet,
    params: HashingParams,
    a: Vec<u32>,
    w: Vec<u32>,
    l: Vec<u32>,
    k: Vec<u32>,
    r: Vec<u32>,
    n: u32,
    bucket_owner: Vec<Option<NodeId>>,
}

impl Anchor {
    fn capacity(&self) -> u32 {
        self.a.len() as u32
    }

    /// ADDBUCKET(): revives the most recently removed bucket.
    fn add_bucket(&mut self) -> Option<u32> {
        let b = self.r.pop()?;
        let bi = b as usize;
        self.a[bi] = 0;
        self.l[self.w[self.n as usize] as usize] = self.n;
        self.w[self.l[bi] as usize] = b;
        self.k[bi] = b;
        self.n += 1;
        Some(b)
    }

    /// REMOVEBUCKET(b).
    fn remove_bucket(&mut self, b: u32) {
        let bi = b as usize;
        debug_assert_eq!(self.a[bi], 0, "bucket {b} is not working");
        self.r.push(b);
        self.n -= 1;
        self.a[bi] = self.n;
        let last = self.w[self.n as usize];
        self.w[self.l[bi] as usize] = last;
        self.k[bi] = last;
        self.l[last as usize] = self.l[bi];
    }

    /// GETBUCKET(k).
    #[inline]
    fn bucket(&self, key_hash: u64) -> u32 {
        let mut b = fast_range(mix64(key_hash), u64::from(self.capacity())) as u32;
        while self.a[b as usize] > 0 {
            let removed_size = self.a[b as usize];
            let seed = u64::from(b).wrapping_add(1).wrapping_mul(BUCKET_SEED_STEP);
            let mut h = fast_range(mix64(key_hash ^ seed), u64::from(removed_size)) as u32;
            while self.a[h as usize] >= removed_size {
                h = self.k[h as usize];
            }
            b = h;
        }
        b
    }
}

impl Placement for Anchor {
    fn build(nodes: NodeSet, params: &HashingParams) -> Result<Self, HashingError> {
        require_uniform(&nodes, "anchor")?;
        let working = nodes.len() as u32;
        let capacity = params.anchor_capacity.unwrap_or((2 * working).max(16));
        if capacity < working {
            return Err(HashingError::InvalidParam {
                param: "anchor_capacity",
                message: format!("{capacity} buckets cannot hold {working} nodes"),
            });
        }
        // INITANCHOR(a, w): buckets 0..w work; the rest are removed, highest first, so that
        // each removed bucket b records a working-set size of b.
        let mut a = vec![0; capacity as usize];
        let mut r = Vec::with_capacity(capacity as usize);
        for b in (working..capacity).rev() {
            r.push(b);
            a[b as usize] = b;
        }
        let identity: Vec<u32> = (0..capacity).collect();
        let mut bucket_owner = vec![None; capacity as usize];
        for (bucket, node) in bucket_owner.iter_mut().zip(nodes.nodes()) {
            *bucket = Some(node.id);
        }
        let (w, l, k) = (identity.clone(), identity.clone(), identity);
        Ok(Anchor { nodes, params: params.clone(), a, w, l, k, r, n: working, bucket_owner })
    }

    #[inline]
    fn locate(&self, key_hash: u64) -> NodeId {
        self.bucket_owner[self.bucket(key_hash) as usize].expect("working buckets have owners")
    }

    fn nodes(&self) -> &NodeSet {
        &self.nodes
    }

    fn params(&self) -> &HashingParams {
        &self.params
    }

    fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + vec_bytes(&self.a)
            + vec_bytes(&self.w)
            + vec_bytes(&self.l)
            + vec_bytes(&self.k)
            + vec_bytes(&self.r)
            + vec_bytes(&self.bucket_owner)
            + node_set_bytes(&self.nodes)
    }

    fn add_node(&mut self, node: Node) -> Result<(), HashingError> {
        if self.r.is_empty() {
            return Err(HashingError::Unsupported(format!(
                "anchor is full ({} buckets); raise params.anchor_capacity",
                self.capacity()
            )));
        }
        self.nodes.insert(node)?;
        let bucket = self.add_bucket().expect("checked above");
        self.bucket_owner[bucket as usize] = Some(node.id);
        Ok(())
    }

    fn remove_node(&mut self, id: NodeId) -> Result<(), HashingError> {
        self.nodes.remove(id)?;
        let bucket = self.bucket_owner.iter().position(|o| *o == Some(id)).expect("present nodes own a bucket");
        self.remove_bucket(bucket as u32);
        self.bucket_owner[bucket] = None;
        Ok(())
    }
}
