"""Uploaded sounds: what kind of audio a file holds and how long it plays."""

from __future__ import annotations

import io

import mutagen

CONTENT_TYPES = {
    "MP3": "audio/mpeg",
    "WAVE": "audio/wav",
    "OggVorbis": "audio/ogg",
    "OggOpus": "audio/ogg",
    "FLAC": "audio/flac",
}
MAX_DURATION_SECONDS = 3600


def measure_sound(content: bytes) -> tuple[str, float]:
    """The content type and duration in seconds of an audio file; ValueError if it is not one."""
    try:
        audio = mutagen.File(io.BytesIO(content))
    except mutagen.MutagenError as exc:
        raise ValueError(f"not a readable audio file ({exc})") from exc
    kind = type(audio).__name__ if audio is not None else ""
    if kind not in CONTENT_TYPES:
        raise ValueError("not an audio file we can play; upload mp3, wav, ogg or flac")
    duration = float(audio.info.length)
    if not 0 < duration <= MAX_DURATION_SECONDS:
        raise ValueError(f"plays {duration:.1f} s; a sound must last between 0 and 3600 s")
    return CONTENT_TYPES[kind], round(duration, 3)
