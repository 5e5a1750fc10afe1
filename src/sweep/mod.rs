pub mod shrink;
