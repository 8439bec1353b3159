//! A transaction id as PostgreSQL's `xid8`, read and bound in its own binary form.
//!
//! Log positions are ordered by `(tx_id, position)`. Passing the transaction id as text
//! (`tx_id::text`) invites a query to order or compare the text, where `1000` sorts
//! before `999`: every fresh cluster crosses such a boundary minutes in. Reading and binding
//! the column as this type keeps every comparison numeric, in SQL and in Rust.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

/// A 64-bit transaction id (`xid8`): the first half of a log cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Xid8(pub u64);

impl<'a> FromSql<'a> for Xid8 {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw
            .try_into()
            .map_err(|_| format!("an xid8 is 8 bytes, got {}", raw.len()))?;
        Ok(Xid8(u64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }
}

impl ToSql for Xid8 {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.put_u64(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::XID8
    }

    to_sql_checked!();
}

impl From<Xid8> for u64 {
    fn from(xid: Xid8) -> u64 {
        xid.0
    }
}
