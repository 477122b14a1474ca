"""Where every key of a TOML text is written: line and column of each key path.

``tomllib`` keeps no positions and no maintained Python TOML library exposes them (tomlkit
keeps the layout, not line numbers), so :class:`KeyIndex` scans the text of a file ``tomllib``
has already accepted and records where every key path is written: table headers, arrays of
tables, dotted keys, inline tables, arrays.
"""

from __future__ import annotations

import bisect
import re
import tomllib

KeyPath = tuple[str | int, ...]


class KeyIndex:
    """Line and column of every key path written in a TOML text (assumed valid TOML)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.keys: dict[KeyPath, int] = {}  # key path -> offset of its key token
        self.values: dict[KeyPath, int] = {}  # key path -> offset of its value
        self._explicit: set[KeyPath] = set()
        self._arrays: dict[KeyPath, int] = {}  # array of tables -> index of its last element
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self._scan()

    # -- answers

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def find(self, location: str) -> KeyPath:
        """The longest written key path along ``location`` (dotted; keys may hold dots).

        A step that is not written is skipped: the key the author must add, or a name the
        validator gave a union branch.
        """
        steps = location.split(".")
        found: KeyPath = ()
        at = 0
        while at < len(steps):
            for width in range(len(steps) - at, 0, -1):
                name = ".".join(steps[at : at + width])
                candidates: list[KeyPath] = [(*found, name)]
                if width == 1 and name.isdigit():
                    candidates.append((*found, int(name)))
                hit = next((c for c in candidates if c in self.keys), None)
                if hit is not None:
                    found, at = hit, at + width
                    break
            else:
                at += 1
        return found

    # -- scanning

    def _mark(self, path: KeyPath, offset: int, explicit: bool) -> None:
        if path in self._explicit or (path in self.keys and not explicit):
            return
        self.keys[path] = offset
        if explicit:
            self._explicit.add(path)

    def _scan(self) -> None:
        text = self.text
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self.pos >= len(text):
                return
            start = self.pos
            if text.startswith("[[", self.pos):
                self.pos += 2
                table = self._header(self._key(), array=True)
                self._skip_past("]]")
            elif text[self.pos] == "[":
                self.pos += 1
                table = self._header(self._key(), array=False)
                self._skip_past("]")
            else:
                names = self._key()
                for depth, (_, offset) in enumerate(names):
                    path = (*table, *(n for n, _ in names[: depth + 1]))
                    self._mark(path, offset, explicit=depth == len(names) - 1)
                self._skip_blank(newlines=False)
                if self.pos < len(text) and text[self.pos] == "=":
                    self.pos += 1
                self._value((*table, *(n for n, _ in names)))
            self._skip_line()
            if self.pos == start:
                self.pos += 1  # never loop in place, whatever the text

    def _header(self, names: list[tuple[str, int]], *, array: bool) -> KeyPath:
        path: KeyPath = ()
        for depth, (name, offset) in enumerate(names):
            path = (*path, name)
            last = depth == len(names) - 1
            if last and array:
                index = self._arrays.get(path, -1) + 1
                self._arrays[path] = index
                self._mark(path, offset, explicit=False)
                path = (*path, index)
                self._mark(path, offset, explicit=True)
            else:
                self._mark(path, offset, explicit=last)
                if path in self._arrays:  # `[a.b]` under `[[a]]` is in a's last element
                    path = (*path, self._arrays[path])
        return path

    def _key(self) -> list[tuple[str, int]]:
        text = self.text
        names: list[tuple[str, int]] = []
        while self.pos < len(text):
            self._skip_blank(newlines=False)
            offset = self.pos
            if text.startswith('"', offset):
                self._skip_string()
                token = text[offset : self.pos]
                names.append((tomllib.loads(f"k = {token}")["k"], offset))
            elif text.startswith("'", offset):
                self._skip_string()
                names.append((text[offset + 1 : self.pos - 1], offset))
            else:
                match = re.compile(r"[A-Za-z0-9_-]+").match(text, offset)
                if match is None:
                    break
                names.append((match.group(), offset))
                self.pos = match.end()
            self._skip_blank(newlines=False)
            if self.pos < len(text) and text[self.pos] == ".":
                self.pos += 1
                continue
            break
        return names

    def _value(self, path: KeyPath) -> None:
        text = self.text
        self._skip_blank(newlines=False)
        self.values.setdefault(path, self.pos)
        if self.pos >= len(text):
            return
        char = text[self.pos]
        if char in "\"'":
            self._skip_string()
        elif char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        else:
            match = re.compile(r"[^,\]}#\r\n]*").match(text, self.pos)
            self.pos = match.end() if match else self.pos + 1

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while not self._closed("]"):
            before = self.pos
            self._mark((*path, index), self.pos, explicit=True)
            self._value((*path, index))
            index += 1
            self._separator(before)

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while not self._closed("}"):
            before = self.pos
            names = self._key()
            for depth, (_, offset) in enumerate(names):
                key = (*path, *(n for n, _ in names[: depth + 1]))
                self._mark(key, offset, explicit=depth == len(names) - 1)
            self._skip_blank(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == "=":
                self.pos += 1
            self._value((*path, *(n for n, _ in names)))
            self._separator(before)

    def _closed(self, bracket: str) -> bool:
        """Past the closing ``bracket`` (or the end of the text) when it comes next."""
        self._skip_blank(newlines=True)
        if self.pos >= len(self.text) or self.text[self.pos] == bracket:
            self.pos += 1
            return True
        return False

    def _separator(self, before: int) -> None:
        self._skip_blank(newlines=True)
        at_comma = self.pos < len(self.text) and self.text[self.pos] == ","
        if at_comma or self.pos == before:  # a comma, or a character nothing could read
            self.pos += 1

    def _skip_string(self) -> None:
        text, start = self.text, self.pos
        quote = text[start]
        if text.startswith(quote * 3, start):
            end = start + 3
            while end < len(text):
                if quote == '"' and text[end] == "\\":
                    end += 2
                elif text.startswith(quote * 3, end):
                    end += 3
                    extra = 0  # up to two quotes may end the content itself: `""""`
                    while end < len(text) and text[end] == quote and extra < 2:
                        end, extra = end + 1, extra + 1
                    break
                else:
                    end += 1
            self.pos = min(end, len(text))
            return
        end = start + 1
        while end < len(text) and text[end] != quote and text[end] != "\n":
            end += 2 if quote == '"' and text[end] == "\\" else 1
        self.pos = min(end + 1, len(text))

    def _skip_past(self, token: str) -> None:
        end = self.text.find(token, self.pos)
        self.pos = len(self.text) if end < 0 else end + len(token)

    def _skip_blank(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#" and newlines:
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            else:
                return

    def _skip_line(self) -> None:
        self._skip_blank(newlines=False)
        if self.pos < len(self.text) and self.text[self.pos] == "#":
            end = self.text.find("\n", self.pos)
            self.pos = len(self.text) if end < 0 else end
