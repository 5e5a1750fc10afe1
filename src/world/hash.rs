//! The trace hash: a running 64-bit digest of every trace record, defined here and nowhere else.
//!
//! A recorded hash is a promise across versions and machines, so the scheme is ours: records
//! are fed as 64-bit words (kind, true time, nodes, ids), and message, timer and observation
//! payloads through [`HashSerializer`], which walks serde's data model (variant indices, field
//! values in declaration order, lengths) — never `std::hash`, whose output may change between
//! compiler releases, and never a text rendering. Each step `h' = (rotl(h, 23) ^ w) * K` is a
//! bijection of the state for a fixed word and of the word for a fixed state, so two traces that
//! differ in a single word always hash differently.

use serde::ser::{self, Serialize};
use std::fmt;

const K: u64 = 0x9FB2_1C65_1E98_DF25;
const INIT: u64 = 0x5349_4D2D_5452_4331; // "SIM-TRC1"

/// The running digest of a trace.
#[derive(Clone, Debug)]
pub(crate) struct TraceHasher {
    state: u64,
    words: u64,
}

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher {
            state: INIT,
            words: 0,
        }
    }
}

impl TraceHasher {
    /// Folds one 64-bit word into the hash.
    #[inline]
    pub(crate) fn word(&mut self, w: u64) {
        self.state = (self.state.rotate_left(23) ^ w).wrapping_mul(K);
        self.words += 1;
    }

    /// Folds a byte string into the hash: its length, then its bytes in 8-byte little-endian
    /// words (the last one zero-padded).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
    }

    /// Feeds any serializable value: its structure and its contents.
    #[inline]
    pub(crate) fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        // Our serializer never fails.
        let _ = value.serialize(HashSerializer(self));
    }

    /// The digest so far, finalised (the state is not consumed).
    pub(crate) fn finish(&self) -> u64 {
        let mut z = self.state ^ self.words.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        z ^ (z >> 33)
    }

    /// The digest as printed: 16 lowercase hex digits.
    pub(crate) fn hex(&self) -> String {
        format!("{:016x}", self.finish())
    }
}

/// Never produced; serde requires an error type.
#[derive(Debug)]
pub(crate) struct HashError;

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("hashing never fails")
    }
}
impl std::error::Error for HashError {}
impl ser::Error for HashError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        HashError
    }
}

/// Feeds serde's data model into a [`TraceHasher`]. Names are skipped (the Rust types fix
/// them); variant indices, lengths and `Option` tags are fed, so different shapes differ.
pub(crate) struct HashSerializer<'a>(pub &'a mut TraceHasher);

// Tags that keep `None`, `()`, and empty sequences apart from zeros.
const TAG_NONE: u64 = 0x4E4F_4E45;
const TAG_SOME: u64 = 0x534F_4D45;
const TAG_UNIT: u64 = 0x554E_4954;

type R = Result<(), HashError>;

impl<'a> ser::Serializer for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        self.0.word(u64::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        self.0.word(v as u64);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        self.0.word(v as u64);
        self.0.word((v >> 64) as u64);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        self.0.word(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        self.0.word(v as u64);
        self.0.word((v >> 64) as u64);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        self.0.word(v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        self.0.word(u64::from(v));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        self.0.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.0.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> R {
        self.0.word(TAG_NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        self.0.word(TAG_SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.0.word(TAG_UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> R {
        self.0.word(u64::from(index));
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> R {
        self.0.word(u64::from(index));
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, HashError> {
        // Unknown lengths are rare (iterators); the end marker keeps them unambiguous.
        self.0.word(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, HashError> {
        self.0.word(u64::from(index));
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, HashError> {
        self.0.word(len.map_or(u64::MAX, |l| l as u64));
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, HashError> {
        self.0.word(u64::from(index));
        Ok(self)
    }
}

impl<'a> HashSerializer<'a> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        value.serialize(HashSerializer(self.0))
    }
}

impl<'a> ser::SerializeSeq for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeTuple for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeTupleStruct for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeTupleVariant for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeMap for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeStruct for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}
impl<'a> ser::SerializeStructVariant for HashSerializer<'a> {
    type Ok = ();
    type Error = HashError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> R {
        self.element(value)
    }
    fn end(self) -> R {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    enum Msg {
        Ping { seq: u64 },
        Pong { seq: u64 },
        Note(Option<String>),
    }

    fn digest<T: Serialize>(v: &T) -> u64 {
        let mut h = TraceHasher::default();
        h.value(v);
        h.finish()
    }

    #[test]
    fn variants_fields_and_options_are_told_apart() {
        assert_ne!(digest(&Msg::Ping { seq: 1 }), digest(&Msg::Pong { seq: 1 }));
        assert_ne!(digest(&Msg::Ping { seq: 1 }), digest(&Msg::Ping { seq: 2 }));
        assert_ne!(
            digest(&Msg::Note(None)),
            digest(&Msg::Note(Some(String::new())))
        );
        assert_ne!(digest(&vec![1u8, 2]), digest(&vec![1u8, 2, 0]));
        assert_eq!(digest(&Msg::Ping { seq: 1 }), digest(&Msg::Ping { seq: 1 }));
    }

    #[test]
    fn order_matters() {
        let mut a = TraceHasher::default();
        a.word(1);
        a.word(2);
        let mut b = TraceHasher::default();
        b.word(2);
        b.word(1);
        assert_ne!(a.finish(), b.finish());
    }

    /// The hash scheme is a promise: this value must never change.
    #[test]
    fn the_scheme_is_pinned() {
        let mut h = TraceHasher::default();
        h.word(42);
        h.bytes(b"raft");
        h.value(&Msg::Pong { seq: 7 });
        assert_eq!(h.hex(), PINNED);
    }
    const PINNED: &str = "b791ac1ae3e5b8f2";
}
