//! The wire and log encoding: serde with postcard (compact, varint integers), and frames
//! delimited by a 4-byte length (tokio-util's `LengthDelimitedCodec`), at most
//! [`MAX_FRAME_BYTES`] long.

use super::TransportError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::codec::LengthDelimitedCodec;

/// The largest frame either side accepts.
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// Encodes `value`.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, TransportError> {
    postcard::to_stdvec(value).map_err(|e| TransportError::Encode(e.to_string()))
}

/// Decodes a `T` from `bytes`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, TransportError> {
    postcard::from_bytes(bytes).map_err(|e| TransportError::Decode(e.to_string()))
}

/// Decodes every record of a log.
pub fn decode_all<T: DeserializeOwned>(records: &[Vec<u8>]) -> Result<Vec<T>, TransportError> {
    records.iter().map(|bytes| decode(bytes)).collect()
}

/// The frame codec of every TCP connection.
pub fn frames() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().length_field_length(4).max_frame_length(MAX_FRAME_BYTES).new_codec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let value = (7u32, vec![1i64, -2], String::from("x"));
        let bytes = encode(&value).unwrap();
        assert_eq!(decode::<(u32, Vec<i64>, String)>(&bytes).unwrap(), value);
        assert!(decode::<(u32, Vec<i64>, String)>(&bytes[..2]).is_err());
    }
}
