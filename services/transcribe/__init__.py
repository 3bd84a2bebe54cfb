"""Call recordings into transcripts: audio in, manager/client turns out, behind one interface
with two engines (an OpenAI-compatible /v1/audio/transcriptions endpoint, or faster-whisper
embedded). `turns.py` is pure; `engines.py` and `audio.py` hold the I/O."""
