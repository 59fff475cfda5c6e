//! Find LM Studio's `lms` command-line tool and drive it asynchronously.
