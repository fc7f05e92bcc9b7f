package netsync

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
)

// An outbox segment is a sequence of records, each an 8-byte header (payload length and CRC-32C
// of the payload, both little-endian uint32) followed by the payload: one Event as JSON.

// recordHeader is the size of a record's header.
const recordHeader = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// recordMarker is how every payload begins (the JSON of an Event starts with its first field):
// after damage, the reader looks for it to find the next record.
var recordMarker = func() []byte {
	b, _ := json.Marshal(Event{})
	return b[:bytes.IndexByte(b, ':')+1]
}()

// appendRecord appends e's record to buf.
func appendRecord(buf []byte, e *Event) ([]byte, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return buf, err
	}
	var hdr [recordHeader]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, crcTable))
	return append(append(buf, hdr[:]...), payload...), nil
}

// record is one event read back from a segment, at byte offset off, payload bytes long.
type record struct {
	ev  Event
	off int64
	n   int
}

// damage is a stretch of a segment, bytes [off, end), where no record checks out.
type damage struct{ off, end int64 }

// scanSegment reads every record of a segment whose length and checksum check out and whose
// payload is a valid event. A stretch that does not check out (a torn write, a flipped byte,
// inserted garbage) is reported as damage and skipped: the reader resynchronises on the next
// offset where a whole record checks out, so every good record after damage is kept.
func scanSegment(b []byte) (recs []record, dmg []damage) {
	pos := 0
	for pos < len(b) {
		if n, e, ok := recordAt(b, pos); ok {
			recs = append(recs, record{ev: e, off: int64(pos), n: n})
			pos += recordHeader + n
			continue
		}
		next := nextRecord(b, pos+1)
		dmg = append(dmg, damage{off: int64(pos), end: int64(next)})
		pos = next
	}
	return recs, dmg
}

// nextRecord returns the offset of the first record at or after from that checks out, or len(b).
func nextRecord(b []byte, from int) int {
	for search := from + recordHeader; search < len(b); {
		i := bytes.Index(b[search:], recordMarker)
		if i < 0 {
			break
		}
		start := search + i - recordHeader
		if _, _, ok := recordAt(b, start); ok {
			return start
		}
		search += i + 1
	}
	return len(b)
}

// recordAt decodes the record at pos: its payload length and event, if it checks out.
func recordAt(b []byte, pos int) (int, Event, bool) {
	if pos < 0 || len(b)-pos < recordHeader {
		return 0, Event{}, false
	}
	n := int(binary.LittleEndian.Uint32(b[pos : pos+4]))
	if n == 0 || n > MaxMessage || len(b)-pos-recordHeader < n {
		return 0, Event{}, false
	}
	payload := b[pos+recordHeader : pos+recordHeader+n]
	if !bytes.HasPrefix(payload, recordMarker) || crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(b[pos+4:pos+8]) {
		return 0, Event{}, false
	}
	var e Event
	if err := json.Unmarshal(payload, &e); err != nil || e.Wall == "" || e.Round < 1 || e.Seq < 1 {
		return 0, Event{}, false
	}
	return n, e, true
}
