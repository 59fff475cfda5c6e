//! The `object` field OpenAI-compatible servers put on every response.

open_enum! {
    /// What a response object is (`object`).
    pub enum ObjectKind {
        /// A list wrapper (`"list"`).
        List = "list",
        /// A model (`"model"`).
        Model = "model",
        /// A whole chat completion (`"chat.completion"`).
        ChatCompletion = "chat.completion",
        /// One streamed chat chunk (`"chat.completion.chunk"`).
        ChatCompletionChunk = "chat.completion.chunk",
        /// A legacy text completion or one of its stream chunks (`"text_completion"`).
        TextCompletion = "text_completion",
        /// One embedding vector (`"embedding"`).
        Embedding = "embedding",
    }
}
