//! Hashes of what a recording compares: an item handed to the writer
//! (through serde, as it would be serialised, without writing it out) and
//! an item the writer holds as a `Value`. Equal values hash equal; two
//! different ones hash equal only by a collision of SipHash-1-3's 128 (or,
//! for a field or a list's item, 64) bits.

use std::fmt::Write as _;
use std::hash::Hasher;

use serde::Serialize;
use serde::ser;
use serde_json::Value;
use siphasher::sip::SipHasher13;
use siphasher::sip128::{Hasher128, SipHasher13 as SipHasher13x128};

/// A 128-bit hash of `v`.
pub(crate) fn value128(v: &Value) -> u128 {
    let mut h = SipHasher13x128::new();
    feed(v, &mut h);
    h.finish128().as_u128()
}

/// A 64-bit hash of `v` (a field of an item, an item of a list).
pub(crate) fn value64(v: &Value) -> u64 {
    let mut h = SipHasher13::new();
    feed(v, &mut h);
    h.finish()
}

/// Feeds `v` to `h` so that equal values (as `Value` compares them) feed
/// the same: `-0.0` as `0.0`, a number's kind kept (an integer never
/// equals a float), lengths before contents (no two values feed the same).
fn feed<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => h.write_u8(if *b { 1 } else { 2 }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                h.write_u8(3);
                h.write_u64(u);
            } else if let Some(i) = n.as_i64() {
                h.write_u8(4);
                h.write_i64(i);
            } else {
                let f = n.as_f64().unwrap_or_default();
                h.write_u8(5);
                h.write_u64(if f == 0.0 { 0 } else { f.to_bits() });
            }
        }
        Value::String(s) => {
            h.write_u8(6);
            h.write_usize(s.len());
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write_u8(7);
            h.write_usize(items.len());
            for i in items {
                feed(i, h);
            }
        }
        Value::Object(m) => {
            h.write_u8(8);
            h.write_usize(m.len());
            for (k, v) in m {
                h.write_usize(k.len());
                h.write(k.as_bytes());
                feed(v, h);
            }
        }
    }
}

/// A 128-bit hash of `item` as serde serialises it (fields in the order
/// of the type, each with its name), without building text or a `Value`:
/// what the console hashes, on its own thread, to hand the writer only the
/// items that changed. Equal items hash equal (a type's fields are always
/// serialised in the same order; none of the recorded types holds a hash
/// map). `None` if serde refuses it.
pub(crate) fn item128<T: Serialize + ?Sized>(item: &T) -> Option<u128> {
    let mut h = Feed(SipHasher13x128::new());
    item.serialize(&mut h).ok()?;
    Some(h.0.finish128().as_u128())
}

/// A serde serializer that feeds what it is given to a hasher. Every value
/// starts with a tag of its kind; strings end with 0xFF (never in UTF-8);
/// lists and maps with an end tag: no two values feed the same.
struct Feed(SipHasher13x128);

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not hashed")
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Self
    }
}

mod tag {
    pub const NONE: u8 = 0;
    pub const SOME: u8 = 1;
    pub const BOOL: u8 = 2;
    pub const INT: u8 = 3;
    pub const UINT: u8 = 4;
    pub const FLOAT: u8 = 5;
    pub const STR: u8 = 6;
    pub const BYTES: u8 = 7;
    pub const UNIT: u8 = 8;
    pub const VARIANT: u8 = 9;
    pub const SEQ: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const END: u8 = 13;
    pub const NEWTYPE: u8 = 14;
}

impl Feed {
    fn tag(&mut self, t: u8) {
        self.0.write_u8(t);
    }

    fn text(&mut self, s: &str) {
        self.0.write(s.as_bytes());
        self.0.write_u8(0xFF);
    }
}

impl std::fmt::Write for Feed {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl ser::Serializer for &mut Feed {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), Refused> {
        self.tag(tag::BOOL);
        self.0.write_u8(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Refused> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Refused> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Refused> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Refused> {
        self.serialize_i128(i128::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<(), Refused> {
        self.tag(tag::INT);
        self.0.write_i128(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Refused> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Refused> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Refused> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Refused> {
        self.serialize_u128(u128::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), Refused> {
        self.tag(tag::UINT);
        self.0.write_u128(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Refused> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Refused> {
        self.tag(tag::FLOAT);
        self.0.write_u64(v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Refused> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Refused> {
        self.tag(tag::STR);
        self.text(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Refused> {
        self.tag(tag::BYTES);
        self.0.write_usize(v.len());
        self.0.write(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Refused> {
        self.tag(tag::NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        self.tag(tag::SOME);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Refused> {
        self.tag(tag::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Refused> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Refused> {
        self.tag(tag::VARIANT);
        self.text(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.tag(tag::NEWTYPE);
        self.text(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Refused> {
        self.tag(tag::SEQ);
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Refused> {
        self.tag(tag::SEQ);
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        self.tag(tag::SEQ);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Refused> {
        self.tag(tag::VARIANT);
        self.text(variant);
        self.tag(tag::SEQ);
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Refused> {
        self.tag(tag::MAP);
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        self.tag(tag::STRUCT);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, Refused> {
        self.tag(tag::VARIANT);
        self.text(variant);
        self.tag(tag::STRUCT);
        Ok(self)
    }
    /// A value written with `Display` (a timestamp): its text, without
    /// building it.
    fn collect_str<T: std::fmt::Display + ?Sized>(self, value: &T) -> Result<(), Refused> {
        self.tag(tag::STR);
        write!(self, "{value}").map_err(|_| Refused)?;
        self.0.write_u8(0xFF);
        Ok(())
    }
}

impl ser::SerializeSeq for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeMap for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.text(key);
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Feed {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.text(key);
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        self.tag(tag::END);
        Ok(())
    }
}
