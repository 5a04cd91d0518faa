//! Presigned uploads: clients that upload outside GraphQL get a signed URL to PUT one file,
//! then name it by `uploadId` in `addUnitPhoto`, `uploadAvatar` or `sendFileMessage`.

pub mod entity;
pub mod graphql;
pub mod service;
