//! Enums stored as `text` columns, read and bound as themselves: a row decodes straight
//! into the enum (a word the engine never wrote is a decode error naming it), and a
//! statement binds the enum, not a string spelled at the call.

/// Implements `FromSql` and `ToSql` for `$ty`, stored as the text `$ty::as_str` gives and
/// read back with `$parse` (`fn(&str) -> Option<$ty>`).
#[macro_export]
macro_rules! stored_as_text {
    ($ty:ty, $parse:expr) => {
        impl<'a> tokio_postgres::types::FromSql<'a> for $ty {
            fn from_sql(
                ty: &tokio_postgres::types::Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                let text = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(text)
                    .ok_or_else(|| format!("'{text}' is not a stored {}", stringify!($ty)).into())
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::FromSql>::accepts(ty)
            }
        }

        impl tokio_postgres::types::ToSql for $ty {
            fn to_sql(
                &self,
                ty: &tokio_postgres::types::Type,
                out: &mut bytes::BytesMut,
            ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
            {
                <&str as tokio_postgres::types::ToSql>::to_sql(&self.as_str(), ty, out)
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::ToSql>::accepts(ty)
            }

            tokio_postgres::types::to_sql_checked!();
        }
    };
}
