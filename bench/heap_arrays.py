#!/usr/bin/env python3
"""Which long[] lengths fill a heap dump, dead objects included: how session 9 found the flusher's promoted chunks.

  jcmd PID GC.heap_dump -all /tmp/all.hprof     # -all: unreachable objects too (what the old generation holds)
  python3 bench/heap_arrays.py /tmp/all.hprof

Prints the total bytes of long[] arrays, then the lengths that hold the most bytes (length, arrays, bytes). A length
that matches a buffer in the code (1,000: CountFlusher.CHUNK; powers of two: LongLongMap) says whose garbage it is.
Reads HPROF 1.0.2 as the JDK writes it (no compression); only primitive array records are looked at.
"""
import collections
import struct
import sys

# Sizes of HPROF basic types by type code (2 = object id).
TYPE_SIZES = {4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
LONG = 11


def long_arrays(data):
    start = data.index(b"\0") + 1
    id_size = struct.unpack(">I", data[start:start + 4])[0]
    sizes = {**TYPE_SIZES, 2: id_size}
    lengths = collections.Counter()
    i = start + 12
    while i < len(data):
        tag = data[i]
        length = struct.unpack(">I", data[i + 5:i + 9])[0]
        j, i = i + 9, i + 9 + length
        if tag not in (0x0C, 0x1C):  # HEAP DUMP, HEAP DUMP SEGMENT
            continue
        while j < i:
            sub = data[j]
            j += 1
            if sub == 0xFF:  # root unknown
                j += id_size
            elif sub == 0x01:  # root JNI global
                j += 2 * id_size
            elif sub in (0x02, 0x03, 0x08):  # root JNI local, Java frame, thread object
                j += id_size + 8
            elif sub in (0x04, 0x06):  # root native stack, thread block
                j += id_size + 4
            elif sub in (0x05, 0x07):  # root sticky class, monitor used
                j += id_size
            elif sub == 0x20:  # class dump
                j += id_size + 4 + 6 * id_size + 4
                for kind in ("constants", "statics", "fields"):
                    count = struct.unpack(">H", data[j:j + 2])[0]
                    j += 2
                    for _ in range(count):
                        if kind == "constants":
                            j += 2
                            j += 1 + sizes[data[j]]
                        elif kind == "statics":
                            j += id_size
                            j += 1 + sizes[data[j]]
                        else:
                            j += id_size + 1
            elif sub == 0x21:  # instance dump
                j += id_size + 4 + id_size
                j += 4 + struct.unpack(">I", data[j:j + 4])[0]
            elif sub == 0x22:  # object array dump
                j += id_size + 4
                count = struct.unpack(">I", data[j:j + 4])[0]
                j += 4 + id_size + count * id_size
            elif sub == 0x23:  # primitive array dump
                j += id_size + 4
                count, kind = struct.unpack(">IB", data[j:j + 5])
                j += 5 + count * sizes[kind]
                if kind == LONG:
                    lengths[count] += 1
            else:
                raise SystemExit(f"unknown heap dump record 0x{sub:02x} at byte {j - 1}")
    return lengths


def main():
    with open(sys.argv[1], "rb") as dump:
        lengths = long_arrays(dump.read())
    print("long[] bytes", sum(8 * length * arrays for length, arrays in lengths.items()))
    for length, arrays in sorted(lengths.items(), key=lambda item: -item[0] * item[1])[:20]:
        print(length, arrays, 8 * length * arrays)


if __name__ == "__main__":
    main()
