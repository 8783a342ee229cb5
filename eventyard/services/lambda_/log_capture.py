"""What a function's process writes, cut into CloudWatch log events as Lambda cuts them.

Two kinds of output, as in AWS:
- text on stdout and stderr: every line is one event whose message keeps its newline (`"multi\\n"`);
  empty lines make no event.
- framed records on the telemetry descriptor (`_LAMBDA_TELEMETRY_LOG_FD`): AWS's runtime clients write
  the `logging` module's lines and an uncaught error with its stack trace there, so a record with
  several lines stays one event. A frame is: type (4 bytes, 0xa55a00..), length (4), timestamp in
  microseconds (8), the message (length bytes), big-endian.

Both reach the server through one pipe (the telemetry descriptor is a second descriptor of the
process's output pipe), so the events keep the order the process wrote them in. A frame is told
from text by its type's first three bytes, which valid UTF-8 text never holds (0xa5 cannot follow
an ASCII byte).
"""

from __future__ import annotations

import time

FRAME_MAGIC = b"\xa5\x5a\x00"
FRAME_HEADER = 16


def now_ms() -> int:
    return int(time.time() * 1000)


class OutputSplitter:
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[int, str]]:
        """The events `chunk` completes: (ms timestamp, message)."""
        self._buffer += chunk
        out: list[tuple[int, str]] = []
        while self._buffer:
            frame_at = self._buffer.find(FRAME_MAGIC)
            line_end = self._buffer.find(b"\n")
            if frame_at == 0:
                if not self._take_frame(out):
                    break
            elif line_end >= 0 and (frame_at < 0 or line_end < frame_at):
                self._line(self._buffer[:line_end], out)
                self._buffer = self._buffer[line_end + 1:]
            elif frame_at > 0:  # text without its newline yet, then a record: the text is its own event
                self._line(self._buffer[:frame_at], out)
                self._buffer = self._buffer[frame_at:]
            else:
                break  # part of a line: wait for the rest
        return out

    def flush(self) -> list[tuple[int, str]]:
        """What was written without a final newline (the invocation or the process ended)."""
        rest, self._buffer = self._buffer, b""
        if rest.startswith(FRAME_MAGIC):
            return []  # a record cut short by the process's end
        text = rest.decode("utf-8", "replace")
        return [(now_ms(), text)] if text else []

    def _take_frame(self, out: list[tuple[int, str]]) -> bool:
        if len(self._buffer) < FRAME_HEADER:
            return False
        length = int.from_bytes(self._buffer[4:8], "big")
        if len(self._buffer) < FRAME_HEADER + length:
            return False
        micros = int.from_bytes(self._buffer[8:16], "big")
        message = self._buffer[FRAME_HEADER:FRAME_HEADER + length].decode("utf-8", "replace")
        self._buffer = self._buffer[FRAME_HEADER + length:]
        if message:
            out.append((micros // 1000, message))
        return True

    @staticmethod
    def _line(raw: bytes, out: list[tuple[int, str]]) -> None:
        text = raw.decode("utf-8", "replace")
        if text:
            out.append((now_ms(), text + "\n"))
