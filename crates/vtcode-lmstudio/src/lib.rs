//! Make a local LM Studio model ready and usable for a coding agent.
