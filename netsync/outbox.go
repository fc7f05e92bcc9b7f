package netsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/internal/durable"
)

// Outbox defaults.
const (
	// DefaultQueue is how many events the game loop may hand over before Submit refuses: minutes of
	// the busiest round at one fsync per batch, so it fills only if the disk stops.
	DefaultQueue = 1 << 16
	// SegmentBytes is the size at which the outbox starts a new segment file; a segment whose
	// events are all acknowledged is deleted.
	SegmentBytes = 4 << 20
	// JournalsKept is how many of a wall's latest rounds keep their journal path recorded once
	// the outbox holds nothing of them: a damaged record found later can still be rebuilt.
	JournalsKept = 16
	// maxBatch bounds one group commit.
	maxBatch = 4096
	// ackedSaveEvery is how often the acknowledged positions are saved: an ack lost in a crash only
	// means a resend, which the backend drops as a duplicate.
	ackedSaveEvery = 200 * time.Millisecond
	// rotateRetry is how long the outbox keeps writing to a full segment after failing to start
	// the next one, before it tries again.
	rotateRetry = time.Second
)

// The outbox's files, besides its segments (seg-NNNNNNNN.log).
const (
	ackedFile    = "acked.json"    // {"wall/round": seq}: what the backend acknowledged
	journalsFile = "journals.json" // {"wall/round": "/path/of/the/round.jsonl"}
	epochFile    = "epoch"         // the wall's fencing epoch, in decimal
)

// Alarm codes: what an Alarm is about.
const (
	// AlarmEventsLost: score events are damaged on disk and no journal could rebuild them, so the
	// backend will never get them. Round and Seq..SeqTo name them.
	AlarmEventsLost = "events_lost"
	// AlarmGap: the backend refuses a round's first unacknowledged event with gap again and
	// again (it lacks earlier events of the round). The events are kept and retried.
	AlarmGap = "permanent_gap"
	// AlarmConflict: the backend holds an event under the same key with different content.
	AlarmConflict = "conflict"
	// AlarmWallInUse: another show is connected as this wall at the same epoch.
	AlarmWallInUse = "wall_in_use"
	// AlarmFenced: another machine is primary with a higher epoch; this show sends nothing.
	AlarmFenced = "fenced"
	// AlarmRefused: the backend refuses the hello (wrong token, another protocol version).
	AlarmRefused = "backend_refused"
)

// Alarm is a standing problem of the outbox or the backend link that an operator must see and act
// on: the show lists every standing alarm (Outbox.Alarms, Client.Status).
type Alarm struct {
	Code    string    `json:"code"` // one of the Alarm* codes
	Wall    string    `json:"wall"`
	Round   uint32    `json:"round,omitempty"`  // the round concerned; 0: not about one round
	Seq     uint64    `json:"seq,omitempty"`    // the first event concerned; 0: none
	SeqTo   uint64    `json:"seq_to,omitempty"` // the last; 0 with Seq set: every event from Seq on may be
	Message string    `json:"message"`          // for people: what is wrong and what to do
	Since   time.Time `json:"since"`
}

// roundKey names one round of one wall.
type roundKey struct {
	wall  string
	round uint32
}

func (k roundKey) String() string { return k.wall + "/" + strconv.FormatUint(uint64(k.round), 10) }

func keyOf(e *Event) roundKey { return roundKey{e.Wall, e.Round} }

// parseRoundKey reads "wall/round" as acked.json and journals.json write it.
func parseRoundKey(s string) (roundKey, bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 || game.CheckWallID(s[:i]) != nil {
		return roundKey{}, false
	}
	r, err := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil || r < 1 {
		return roundKey{}, false
	}
	return roundKey{s[:i], uint32(r)}, true
}

// seqRange is the seqs from..to of a round; to == 0: every seq from on.
type seqRange struct{ from, to uint64 }

func (r seqRange) has(s uint64) bool { return s >= r.from && (r.to == 0 || s <= r.to) }

// pending is an event on disk, not yet acknowledged.
type pending struct {
	Event
	n     uint64    // local append order
	seg   int       // segment index
	added time.Time // when it became durable, for the oldest-unacked age
	// prov: acknowledged per acked.json only. Held (not sent, not in Depth) until the backend's
	// welcome says whether it really holds it.
	prov bool
}

type segment struct {
	idx   int
	path  string
	count int // events in it not yet acknowledged
}

// diskOps is every write the outbox makes that can be slow; tests replace them with a slow or
// failing disk.
type diskOps struct {
	syncFile  func(*os.File) error
	syncDir   func(dir string) error
	writeFile func(path string, data []byte) error
	openSeg   func(path string) (*os.File, error)
	remove    func(path string) error
}

func realDisk() diskOps {
	return diskOps{
		syncFile:  (*os.File).Sync,
		syncDir:   durable.SyncDir,
		writeFile: func(p string, b []byte) error { return durable.WriteFile(p, b, 0o644) },
		openSeg:   func(p string) (*os.File, error) { return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) },
		remove:    os.Remove,
	}
}

// Outbox is the durable queue of score events between the game and the backend: every event is
// appended to a segment file and fsynced (many events per fsync under load) before the client may
// send it; acknowledged events are trimmed. On open, what was not acknowledged before a crash is
// pending again; a damaged record (a torn write, a flipped byte, garbage) is skipped with a log
// naming segment and offset, the records after it are kept, and a missing event is rebuilt from
// its round's journal (SetJournal) or raises an AlarmEventsLost.
//
// Concurrency: every method but Run and Close is safe from any goroutine. Submit, Depth,
// OldestAge, Alarms and the other accessors never wait on the disk: the file writes, fsyncs,
// segment rotations and deletions and the saving of acked.json all happen on Run's goroutine,
// under no lock that those methods take. The exceptions wait by design and say so: SetEpoch
// fsyncs the epoch before it returns, WaitAcked waits for the backend, and the welcome's handling
// (on the client's reader) reads the journals it rebuilds lost events from. Run must be running
// for submitted events to become durable; Close follows Run.
type Outbox struct {
	dir      string
	log      zerolog.Logger
	in       chan Event
	notify   chan struct{} // new events are sendable
	resend   chan struct{} // pending events were reordered: send again from the first
	kick     chan struct{} // wakes Run: metadata to save or rebuilt events to write
	queued   atomic.Int64  // submitted, not yet durable
	fsyncs   atomic.Int64
	disk     diskOps
	segBytes int64
	epochMu  sync.Mutex // serialises SetEpoch

	// The writer's own: Run's goroutine (OpenOutbox and Close before and after it).
	f           *os.File
	cur         int   // index of the segment being written
	size        int64 // its size
	wbuf        []byte
	leftover    []Event // a batch the disk refused at shutdown, for Close to retry
	rotateAfter time.Time
	rotateWait  time.Duration // rotateRetry; shorter in tests

	mu        sync.Mutex
	segs      []segment
	pend      []pending
	nprov     int                 // pending events with prov set
	rounds    map[roundKey]int    // pending events per round
	acked     map[roundKey]uint64 // highest acknowledged seq per round
	confirmed map[roundKey]bool   // acked comes from the backend in this process, not from acked.json
	journals  map[roundKey]string // each round's journal ("" : none kept)
	rebuilt   []Event             // rebuilt from journals, for Run to write
	epoch     uint64
	epochCh   chan struct{} // closed when the epoch changes
	next      uint64
	ackDirty  bool
	metaDirty bool
	lastSave  time.Time
	alarms    []Alarm
	cut       int // bytes cut from torn tails at open
}

// OpenOutbox opens (creating) the outbox in dir and recovers what is pending. queue is the
// capacity of Submit's queue (0: DefaultQueue). It blocks while it reads the segments and, for a
// damaged one, replays the journals it needs.
func OpenOutbox(dir string, queue int, log zerolog.Logger) (*Outbox, error) {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("netsync: outbox: %w", err)
	}
	o := &Outbox{dir: dir, log: log, in: make(chan Event, queue), notify: make(chan struct{}, 1),
		resend: make(chan struct{}, 1), kick: make(chan struct{}, 1), disk: realDisk(), segBytes: SegmentBytes, rotateWait: rotateRetry,
		rounds: map[roundKey]int{}, acked: map[roundKey]uint64{}, confirmed: map[roundKey]bool{},
		journals: map[roundKey]string{}, epoch: 1, epochCh: make(chan struct{})}
	o.loadAcked()
	o.loadJournals()
	o.loadEpoch()
	if err := o.recover(); err != nil {
		return nil, err
	}
	return o, nil
}

// loadAcked reads acked.json. Whatever it says is provisional until the backend's welcome: a
// garbage or missing file only means resending what the backend may already have.
func (o *Outbox) loadAcked() {
	var m map[string]uint64
	if !o.loadJSON(ackedFile, &m, "everything on disk is held until the backend says what it has") {
		return
	}
	for k, s := range m { // m is nil when the file says null
		rk, ok := parseRoundKey(k)
		if !ok {
			o.log.Warn().Str("file", filepath.Join(o.dir, ackedFile)).Str("key", k).Msg("outbox: acked.json entry ignored: not wall/round")
			continue
		}
		o.acked[rk] = s
	}
}

func (o *Outbox) loadJournals() {
	var m map[string]string
	if !o.loadJSON(journalsFile, &m, "rounds' journals unknown: a damaged event cannot be rebuilt") {
		return
	}
	for k, p := range m {
		if rk, ok := parseRoundKey(k); ok {
			o.journals[rk] = p
		}
	}
}

// loadJSON reads one of the outbox's JSON files into v; false when it is missing or unreadable.
func (o *Outbox) loadJSON(name string, v any, consequence string) bool {
	p := filepath.Join(o.dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		o.log.Warn().Err(err).Str("file", p).Msg("outbox file unreadable: " + consequence)
		return false
	}
	return true
}

func (o *Outbox) loadEpoch() {
	p := filepath.Join(o.dir, epochFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	e, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || perr != nil || e < 1 {
		// 1 is the lowest epoch: if it is too low the backend fences this show, which is safe.
		o.log.Error().Err(errors.Join(err, perr)).Str("file", p).Msg("outbox epoch unreadable: using epoch 1")
		return
	}
	o.epoch = e
}

func segPath(dir string, idx int) string { return filepath.Join(dir, fmt.Sprintf("seg-%08d.log", idx)) }

// damageAt is a damaged stretch found at open, with the records around it.
type damageAt struct {
	path      string
	off, end  int64
	torn      bool   // the end of the newest segment: a write cut by a crash
	at        int    // how many good records come before it, in all segments
	prev, nxt *Event // the last good record before it and the first after (nil: none)
}

type evKey struct {
	roundKey
	seq uint64
}

// recover reads every segment, keeps every record that checks out, rebuilds what damage took
// from the rounds' journals, and opens the newest segment for appending.
func (o *Outbox) recover() error {
	paths, err := filepath.Glob(filepath.Join(o.dir, "seg-*.log"))
	if err != nil {
		return fmt.Errorf("netsync: outbox: %w", err)
	}
	type segFile struct {
		idx  int
		path string
	}
	var files []segFile
	for _, p := range paths {
		var idx int
		if _, err := fmt.Sscanf(filepath.Base(p), "seg-%d.log", &idx); err == nil && idx >= 0 {
			files = append(files, segFile{idx, p})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].idx < files[j].idx })
	var (
		all     []Event // every good record, in file order
		damages []damageAt
		seen    = map[evKey]Event{}
		now     = time.Now()
	)
	for i, sf := range files {
		b, err := os.ReadFile(sf.path)
		if err != nil {
			return fmt.Errorf("netsync: outbox: %w", err)
		}
		recs, dmg := scanSegment(b)
		newest := i == len(files)-1
		ri := 0
		for _, d := range dmg {
			for ri < len(recs) && recs[ri].off < d.off {
				all = append(all, recs[ri].ev)
				ri++
			}
			da := damageAt{path: sf.path, off: d.off, end: d.end, torn: newest && d.end == int64(len(b)), at: len(all)}
			damages = append(damages, da)
			if da.torn {
				o.log.Error().Str("segment", sf.path).Int64("offset", d.off).Int64("cut_bytes", d.end-d.off).
					Msg("outbox: torn or corrupt tail cut (a write interrupted by a crash)")
				if err := os.Truncate(sf.path, d.off); err != nil {
					return fmt.Errorf("netsync: outbox: cut torn tail of %s: %w", sf.path, err)
				}
				o.cut += int(d.end - d.off)
			} else {
				o.log.Error().Str("segment", sf.path).Int64("offset", d.off).Int64("bytes", d.end-d.off).
					Msg("outbox: damaged record skipped; the records after it are kept")
			}
		}
		for ; ri < len(recs); ri++ {
			all = append(all, recs[ri].ev)
		}
		seg := segment{idx: sf.idx, path: sf.path}
		for _, r := range recs {
			k := evKey{keyOf(&r.ev), r.ev.Seq}
			if first, dup := seen[k]; dup {
				if first != r.ev {
					o.log.Error().Str("segment", sf.path).Int64("offset", r.off).Str("round", k.roundKey.String()).Uint64("seq", k.seq).
						Msg("outbox: two different records of one event; the first is kept")
				}
				continue
			}
			seen[k] = r.ev
			if o.addPending(r.ev, sf.idx, now) {
				seg.count++
			}
		}
		o.segs = append(o.segs, seg)
	}
	for i := range damages { // the good records around each damage
		d := &damages[i]
		if d.at > 0 {
			d.prev = &all[d.at-1]
		}
		if d.at < len(all) {
			d.nxt = &all[d.at]
		}
	}
	next := 0
	if n := len(o.segs); n > 0 {
		next = o.segs[n-1].idx
	}
	if err := o.openCurrent(next, len(o.segs) == 0); err != nil {
		return err
	}
	o.sortPending() // rebuilt events written at the end of a segment go out in their place
	o.rebuildAtOpen(damages)
	o.trimAcked()
	return nil
}

// addPending makes e pending (or provisionally acknowledged) in segment seg; false when the
// backend has confirmed it already. Caller holds mu or owns the outbox.
func (o *Outbox) addPending(e Event, seg int, now time.Time) bool {
	k := keyOf(&e)
	prov := false
	if a, ok := o.acked[k]; ok && e.Seq <= a {
		if o.confirmed[k] {
			return false
		}
		prov = true
	}
	o.next++
	o.pend = append(o.pend, pending{Event: e, n: o.next, seg: seg, added: now, prov: prov})
	o.rounds[k]++
	if prov {
		o.nprov++
	}
	return true
}

// openCurrent opens segment idx for appending (creating it when fresh).
func (o *Outbox) openCurrent(idx int, fresh bool) error {
	p := segPath(o.dir, idx)
	f, err := o.disk.openSeg(p)
	if err != nil {
		return fmt.Errorf("netsync: outbox: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("netsync: outbox: %w", err)
	}
	if fresh {
		if err := o.disk.syncDir(o.dir); err != nil {
			f.Close()
			return fmt.Errorf("netsync: outbox: %w", err)
		}
		o.segs = append(o.segs, segment{idx: idx, path: p})
	}
	o.f, o.cur, o.size = f, idx, st.Size()
	return nil
}

// holes returns, per round, the seqs missing between the acknowledged ones and the highest held.
// Caller holds mu or owns the outbox.
func (o *Outbox) holes() map[roundKey][]seqRange {
	seqs := map[roundKey][]uint64{}
	for _, p := range o.pend {
		k := keyOf(&p.Event)
		seqs[k] = append(seqs[k], p.Seq)
	}
	out := map[roundKey][]seqRange{}
	for k, ss := range seqs {
		sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
		next := o.acked[k] + 1
		for _, s := range ss {
			if s > next {
				out[k] = append(out[k], seqRange{next, s - 1})
			}
			next = max(next, s+1)
		}
	}
	return out
}

// rebuildAtOpen rebuilds from the journals what damage took, writes it, and raises an alarm for
// what no journal has.
func (o *Outbox) rebuildAtOpen(damages []damageAt) {
	need := o.holes()
	if len(damages) > 0 { // damage may have taken any round's events, even the last of one
		for k := range o.journals {
			need[k] = append(need[k], seqRange{o.acked[k] + 1, 0})
		}
	}
	if len(need) == 0 {
		return
	}
	held := o.heldEvents(need)
	evs, rebuilt := o.fromJournals(need, held)
	if len(evs) > 0 {
		if err := o.writeRebuilt(evs); err != nil {
			o.log.Error().Err(err).Int("events", len(evs)).Msg("outbox: cannot write the rebuilt events; they are sent from memory and rebuilt again at the next start")
		}
	}
	damaged := false
	for _, d := range damages {
		damaged = damaged || !d.torn
	}
	// A hole with no damage found (acked.json lost, say) is the welcome's to judge: the backend
	// may well hold those events.
	for k, rs := range o.holes() {
		for _, r := range rs {
			if damaged {
				o.raiseLost(k, r, "")
			}
		}
	}
	for _, d := range damages {
		if d.torn || d.prev == nil {
			continue
		}
		k := keyOf(d.prev)
		if rebuilt[k] || (d.nxt != nil && keyOf(d.nxt) == k && d.nxt.Seq == d.prev.Seq+1) || o.maxHeld(k) > d.prev.Seq {
			continue // nothing of the round can be missing unseen
		}
		o.raiseLost(k, seqRange{d.prev.Seq + 1, 0}, fmt.Sprintf(" (damaged record in %s at offset %d)", d.path, d.off))
	}
}

func (o *Outbox) maxHeld(k roundKey) uint64 {
	var m uint64
	for _, p := range o.pend {
		if keyOf(&p.Event) == k {
			m = max(m, p.Seq)
		}
	}
	return m
}

// heldEvents returns the events held of the rounds in need, by key. Caller holds mu or owns the outbox.
func (o *Outbox) heldEvents(need map[roundKey][]seqRange) map[evKey]Event {
	held := map[evKey]Event{}
	for _, p := range o.pend {
		if k := keyOf(&p.Event); need[k] != nil {
			held[evKey{k, p.Seq}] = p.Event
		}
	}
	return held
}

// fromJournals rebuilds the events of need's ranges that held lacks from the rounds' journals;
// rebuilt says which rounds' journals were read and agree with what the outbox holds. It reads
// files and replays rounds: call it under no lock.
func (o *Outbox) fromJournals(need map[roundKey][]seqRange, held map[evKey]Event) (out []Event, rebuilt map[roundKey]bool) {
	rebuilt = map[roundKey]bool{}
	keys := make([]roundKey, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		o.mu.Lock()
		path := o.journals[k]
		o.mu.Unlock()
		if path == "" {
			continue
		}
		evs, err := readJournal(path, k)
		if err == nil {
			for _, e := range evs { // a journal that disagrees with what the outbox holds is not used
				if h, ok := held[evKey{k, e.Seq}]; ok && h != e {
					err = fmt.Errorf("journal %s gives round %s seq %d as %+v, the outbox holds %+v", path, k, e.Seq, e, h)
					break
				}
			}
		}
		if err != nil {
			o.log.Error().Err(err).Str("round", k.String()).Msg("outbox: cannot rebuild events from the round's journal")
			continue
		}
		rebuilt[k] = true
		n := 0
		for _, e := range evs {
			if _, ok := held[evKey{k, e.Seq}]; ok {
				continue
			}
			for _, r := range need[k] {
				if r.has(e.Seq) {
					out = append(out, e)
					n++
					break
				}
			}
		}
		if n > 0 {
			o.log.Warn().Str("round", k.String()).Str("journal", path).Int("events", n).Msg("outbox: events rebuilt from the round's journal")
		}
	}
	return out, rebuilt
}

// readJournal replays the journal at path and returns its events, checking it is round k's.
func readJournal(path string, k roundKey) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	evs, err := game.ReplayEvents(f, path)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		if keyOf(&e) != k {
			return nil, fmt.Errorf("journal %s is of round %s, not %s", path, keyOf(&e), k)
		}
	}
	return evs, nil
}

// raiseLost raises (once) the alarm for events of round k that are gone. Caller must not hold mu.
func (o *Outbox) raiseLost(k roundKey, r seqRange, where string) {
	why := "no journal of the round is recorded"
	o.mu.Lock()
	if p := o.journals[k]; p != "" {
		why = "the round's journal " + p + " cannot give them"
	}
	o.mu.Unlock()
	var msg string
	if r.to == 0 {
		msg = fmt.Sprintf("SCORES MAY BE LOST: wall %s round %d: events after seq %d may be lost%s; %s. Check the backend's totals against the wall's.",
			k.wall, k.round, r.from-1, where, why)
	} else {
		msg = fmt.Sprintf("SCORES LOST: wall %s round %d seq %d..%d are damaged in the outbox; %s. Check the backend's totals against the wall's.",
			k.wall, k.round, r.from, r.to, why)
	}
	o.raise(Alarm{Code: AlarmEventsLost, Wall: k.wall, Round: k.round, Seq: r.from, SeqTo: r.to, Message: msg})
}

// raise adds an alarm unless the same one stands.
func (o *Outbox) raise(a Alarm) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range o.alarms {
		if b.Code == a.Code && b.Wall == a.Wall && b.Round == a.Round && b.Seq == a.Seq && b.SeqTo == a.SeqTo {
			return
		}
	}
	a.Since = time.Now()
	o.alarms = append(o.alarms, a)
	o.log.Error().Str("alarm", a.Code).Str("wall", a.Wall).Uint32("round", a.Round).Uint64("seq", a.Seq).Uint64("seq_to", a.SeqTo).Msg(a.Message)
}

// clearLost drops the AlarmEventsLost alarms of round k that the backend, holding every event up
// to b, shows were not lost after all. Caller holds mu.
func (o *Outbox) clearLost(k roundKey, b uint64) {
	keep := o.alarms[:0]
	for _, a := range o.alarms {
		if a.Code == AlarmEventsLost && a.Wall == k.wall && a.Round == k.round && a.SeqTo != 0 && a.SeqTo <= b {
			o.log.Info().Str("round", k.String()).Uint64("seq", a.Seq).Uint64("seq_to", a.SeqTo).
				Msg("outbox: the backend holds the events an alarm called lost; alarm cleared")
			continue
		}
		keep = append(keep, a)
	}
	o.alarms = keep
}

// Alarms returns the outbox's standing alarms, oldest first (AlarmEventsLost).
func (o *Outbox) Alarms() []Alarm {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Alarm(nil), o.alarms...)
}

// Lost returns the AlarmEventsLost alarms: events that will never reach the backend.
func (o *Outbox) Lost() []Alarm {
	var out []Alarm
	for _, a := range o.Alarms() {
		if a.Code == AlarmEventsLost {
			out = append(out, a)
		}
	}
	return out
}

// writeRebuilt writes rebuilt events to the current segment and makes them pending in their
// round's seq order. Writer only.
func (o *Outbox) writeRebuilt(evs []Event) error {
	err := o.write(evs)
	now := time.Now()
	o.mu.Lock()
	have := map[evKey]bool{}
	for _, p := range o.pend {
		have[evKey{keyOf(&p.Event), p.Seq}] = true
	}
	for _, e := range evs {
		if have[evKey{keyOf(&e), e.Seq}] {
			continue
		}
		seg := o.cur
		if err != nil {
			seg = -1 // in memory only
		}
		if o.addPending(e, seg, now) && err == nil {
			o.segs[len(o.segs)-1].count++
		}
	}
	o.sortPending()
	o.mu.Unlock()
	signal(o.resend)
	signal(o.notify)
	if err == nil {
		o.maybeRotate()
	}
	return err
}

// sortPending puts the pending events in round and seq order (the backend refuses a gap in a
// round) and numbers them again. Caller holds mu or owns the outbox.
func (o *Outbox) sortPending() {
	sort.SliceStable(o.pend, func(i, j int) bool {
		a, b := &o.pend[i], &o.pend[j]
		if a.Wall != b.Wall {
			return a.Wall < b.Wall
		}
		if a.Round != b.Round {
			return a.Round < b.Round
		}
		return a.Seq < b.Seq
	})
	for i := range o.pend {
		o.pend[i].n = uint64(i + 1)
	}
	o.next = uint64(len(o.pend))
}

func signal(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// SetJournal records the journal of wall's round, so an event of it damaged on disk can be rebuilt
// by replaying the journal. Call it when the round's journal is created, before the round's first
// event is submitted; path "" notes the round without a journal (its number is then taken, see
// MaxRound). It never blocks: Run saves it (journals.json, fsynced) before it writes the next events.
func (o *Outbox) SetJournal(wall string, round uint32, path string) error {
	if err := game.CheckWallID(wall); err != nil {
		return fmt.Errorf("netsync: outbox journal: %w", err)
	}
	if round < 1 {
		return errors.New("netsync: outbox journal: rounds start at 1")
	}
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("netsync: outbox journal: %w", err)
		}
		path = abs
	}
	o.mu.Lock()
	o.journals[roundKey{wall, round}] = path
	o.metaDirty = true
	o.mu.Unlock()
	signal(o.kick)
	return nil
}

// Epoch returns the wall's fencing epoch kept in the outbox directory: 1 until SetEpoch raises it.
func (o *Outbox) Epoch() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.epoch
}

// epochChanged is closed when the epoch changes.
func (o *Outbox) epochChanged() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.epochCh
}

// SetEpoch raises the wall's fencing epoch to e (a standby's promotion: the primary's epoch + 1)
// and makes it durable (fsynced) before it returns; a client then says hello with it. An epoch
// never goes down: e below the current one is an error, e equal to it does nothing. It blocks on
// the disk: do not call it from the frame goroutine.
func (o *Outbox) SetEpoch(e uint64) error {
	o.epochMu.Lock()
	defer o.epochMu.Unlock()
	cur := o.Epoch()
	switch {
	case e < cur:
		return fmt.Errorf("netsync: epoch %d is below the outbox's epoch %d: epochs only grow", e, cur)
	case e == cur:
		return nil
	}
	if err := o.disk.writeFile(filepath.Join(o.dir, epochFile), []byte(strconv.FormatUint(e, 10)+"\n")); err != nil {
		return fmt.Errorf("netsync: save epoch %d: %w", e, err)
	}
	o.mu.Lock()
	o.epoch = e
	close(o.epochCh)
	o.epochCh = make(chan struct{})
	o.mu.Unlock()
	o.log.Warn().Uint64("epoch", e).Msg("wall epoch raised")
	return nil
}

// Submit queues an event for the disk and the backend. It never blocks and takes no lock: with the
// queue full it returns ErrOutboxFull and the caller must keep the event and submit it again.
func (o *Outbox) Submit(e Event) error {
	o.queued.Add(1)
	select {
	case o.in <- e:
		return nil
	default:
		o.queued.Add(-1)
		return ErrOutboxFull
	}
}

// SubmitWait queues an event, waiting for room (for callers that may wait, such as sim).
func (o *Outbox) SubmitWait(ctx context.Context, e Event) error {
	o.queued.Add(1)
	select {
	case o.in <- e:
		return nil
	case <-ctx.Done():
		o.queued.Add(-1)
		return ctx.Err()
	}
}

// Notify is signalled whenever new events become durable (and so sendable).
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// Run writes submitted events to disk in group commits, saves the acknowledged positions and the
// journals, rotates and deletes segments, until ctx is cancelled; then it writes everything still
// queued (every batch) and returns. It returns nil when all that was queued is on disk, or the
// error that kept events off it (Close tries them once more). It blocks.
func (o *Outbox) Run(ctx context.Context) error {
	batch := make([]Event, 0, maxBatch)
	tick := time.NewTicker(ackedSaveEvery)
	defer tick.Stop()
	for {
		select {
		case e := <-o.in:
			batch = o.drain(append(batch[:0], e), maxBatch)
			if err := o.commitRetry(ctx, batch); err != nil {
				return o.shutdown(batch)
			}
		case <-o.kick:
			o.saveMeta()
			o.writeQueuedRebuilt()
		case <-tick.C:
			o.saveMeta()
			o.maintain(false)
		case <-ctx.Done():
			return o.shutdown(nil)
		}
	}
}

// drain adds what is queued to batch, up to max events, without waiting.
func (o *Outbox) drain(batch []Event, max int) []Event {
	for len(batch) < max {
		select {
		case e := <-o.in:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// commitRetry writes batch, retrying (nothing lost, order kept) until the disk takes it or ctx ends.
func (o *Outbox) commitRetry(ctx context.Context, batch []Event) error {
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := o.commit(batch)
		if err == nil {
			return nil
		}
		// Meanwhile Submit fills the queue and then refuses, never blocking.
		o.log.Error().Err(err).Int("events", len(batch)).Msg("outbox write failed; retrying")
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// shutdown writes held (a batch not yet written) and every event queued now, then saves the
// acknowledged positions.
func (o *Outbox) shutdown(held []Event) error {
	o.saveMeta()
	o.writeQueuedRebuilt()
	if len(held) > 0 {
		o.leftover = append([]Event(nil), held...)
	}
	err := o.flushQueued(len(o.in))
	o.maintain(true)
	return err
}

// flushQueued writes the leftover batch and then n queued events, in batches. On a failure the
// batch stays as leftover and the rest stays queued.
func (o *Outbox) flushQueued(n int) error {
	if len(o.leftover) > 0 {
		if err := o.commit(o.leftover); err != nil {
			return o.notWritten(err)
		}
		o.leftover = nil
	}
	batch := make([]Event, 0, maxBatch)
	for n > 0 {
		batch = batch[:0]
		for len(batch) < maxBatch && n > 0 {
			select {
			case e := <-o.in:
				batch = append(batch, e)
				n--
			default:
				n = 0
			}
		}
		if len(batch) == 0 {
			break
		}
		if err := o.commit(batch); err != nil {
			o.leftover = append([]Event(nil), batch...)
			return o.notWritten(err)
		}
	}
	return nil
}

func (o *Outbox) notWritten(err error) error {
	n := len(o.leftover) + len(o.in)
	o.log.Error().Err(err).Int("events", n).Msg("outbox: score events not written to disk at shutdown: only the round journal has them")
	return fmt.Errorf("netsync: outbox: %d score events not written to disk: %w", n, err)
}

// commit appends batch to the current segment and fsyncs it, then makes the events pending
// (sendable). Writer only. An error means nothing of batch counts as written.
func (o *Outbox) commit(batch []Event) error {
	o.saveMeta() // a round's journal is on record before its events are
	if err := o.write(batch); err != nil {
		return err
	}
	now := time.Now()
	o.mu.Lock()
	o.queued.Add(-int64(len(batch)))
	for _, e := range batch {
		if o.addPending(e, o.cur, now) {
			o.segs[len(o.segs)-1].count++
		}
	}
	o.mu.Unlock()
	signal(o.notify)
	o.maybeRotate()
	return nil
}

// write appends the records of evs to the current segment and fsyncs it. Writer only; no lock.
func (o *Outbox) write(evs []Event) error {
	buf := o.wbuf[:0]
	for i := range evs {
		var err error
		if buf, err = appendRecord(buf, &evs[i]); err != nil {
			return fmt.Errorf("netsync: outbox: encode event: %w", err)
		}
	}
	o.wbuf = buf
	_, err := o.f.Write(buf)
	if err == nil {
		err = o.disk.syncFile(o.f)
	}
	if err != nil {
		// Cut what may have been written so the retry follows good data; if that fails, the
		// reader skips the partial record and drops the duplicates the retry makes.
		if terr := o.f.Truncate(o.size); terr != nil {
			return fmt.Errorf("netsync: outbox write %s: %w (and cannot cut it back: %v)", segPath(o.dir, o.cur), err, terr)
		}
		return fmt.Errorf("netsync: outbox write %s: %w", segPath(o.dir, o.cur), err)
	}
	o.size += int64(len(buf))
	o.fsyncs.Add(1)
	return nil
}

// maybeRotate starts the next segment once the current one is full: the new file is created and
// made durable before the old one is closed, so a failure leaves the outbox writing the old one
// (retried after rotateRetry). Writer only; no lock held across the disk.
func (o *Outbox) maybeRotate() {
	if o.size < o.segBytes || time.Now().Before(o.rotateAfter) {
		return
	}
	idx := o.cur + 1
	p := segPath(o.dir, idx)
	f, err := o.disk.openSeg(p)
	if err == nil {
		if err = o.disk.syncDir(o.dir); err != nil {
			f.Close()
		}
	}
	if err != nil {
		o.rotateAfter = time.Now().Add(o.rotateWait)
		o.log.Error().Err(err).Str("segment", p).Int64("current_bytes", o.size).
			Msg("outbox: cannot start a new segment; still writing the current one")
		return
	}
	o.mu.Lock()
	o.segs = append(o.segs, segment{idx: idx, path: p})
	o.mu.Unlock()
	old := o.f
	o.f, o.cur, o.size = f, idx, 0
	if err := old.Close(); err != nil {
		o.log.Warn().Err(err).Msg("outbox: closing a full segment")
	}
}

// queueRebuilt hands events rebuilt from a journal to Run, which writes them.
func (o *Outbox) queueRebuilt(evs []Event) {
	o.mu.Lock()
	o.rebuilt = append(o.rebuilt, evs...)
	o.mu.Unlock()
	signal(o.kick)
}

func (o *Outbox) writeQueuedRebuilt() {
	o.mu.Lock()
	evs := o.rebuilt
	o.rebuilt = nil
	o.mu.Unlock()
	if len(evs) == 0 {
		return
	}
	if err := o.writeRebuilt(evs); err != nil {
		o.log.Error().Err(err).Int("events", len(evs)).Msg("outbox: cannot write the rebuilt events; they are sent from memory")
	}
}

// Ack records that the backend has committed every event of wall's round up to seq: they are
// dropped from memory, and a segment left with none pending is deleted (by Run). It does no I/O.
func (o *Outbox) Ack(wall string, round uint32, seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.settle(roundKey{wall, round}, seq, false)
}

// settle records b as the backend's highest seq of round k. From a welcome (authoritative) it
// replaces what the outbox believed, even downwards, and the missing events it then owes the
// backend are returned; from an ack it only raises a confirmed position. Caller holds mu.
func (o *Outbox) settle(k roundKey, b uint64, authoritative bool) []seqRange {
	old, had := o.acked[k]
	conf := o.confirmed[k]
	if conf && !authoritative && b <= old {
		return nil
	}
	switch {
	case had && !conf && b != old:
		o.log.Warn().Str("round", k.String()).Uint64("acked_json", old).Uint64("backend", b).
			Msg("outbox: acked.json differs from what the backend holds; the backend is trusted")
	case conf && b < old:
		o.log.Error().Str("round", k.String()).Uint64("acknowledged", old).Uint64("backend", b).
			Msg("outbox: the backend holds fewer events than it acknowledged (restored?); the rest is sent again")
	}
	o.acked[k], o.confirmed[k], o.ackDirty = b, true, true
	o.clearLost(k, b)
	if o.rounds[k] == 0 && (!authoritative || old <= b) {
		return nil // nothing of the round is held, nothing is owed
	}
	var held []uint64
	var maxHeld uint64
	requeued := 0
	keep := o.pend[:0]
	for _, p := range o.pend {
		if p.Wall == k.wall && p.Round == k.round {
			if p.Seq <= b {
				o.dropPending(&p)
				continue
			}
			if p.prov {
				p.prov = false
				o.nprov--
				requeued++
			}
			held = append(held, p.Seq)
			maxHeld = max(maxHeld, p.Seq)
		}
		keep = append(keep, p)
	}
	clear(o.pend[len(keep):])
	o.pend = keep
	if requeued > 0 {
		o.log.Warn().Str("round", k.String()).Int("events", requeued).Msg("outbox: events acked.json called acknowledged are sent again")
		signal(o.resend)
	}
	if !authoritative || max(old, maxHeld) <= b {
		return nil
	}
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
	var miss []seqRange
	next := b + 1
	for _, s := range held {
		if s > next {
			miss = append(miss, seqRange{next, s - 1})
		}
		next = max(next, s+1)
	}
	switch {
	case old >= next && conf:
		miss = append(miss, seqRange{next, old}) // the backend acknowledged them: they existed
	case old >= next:
		miss = append(miss, seqRange{next, 0}) // acked.json's word only: how many existed is unknown
	}
	return miss
}

// dropPending forgets an acknowledged event. Caller holds mu.
func (o *Outbox) dropPending(p *pending) {
	for i := range o.segs {
		if o.segs[i].idx == p.seg {
			o.segs[i].count--
		}
	}
	k := keyOf(&p.Event)
	if o.rounds[k]--; o.rounds[k] <= 0 {
		delete(o.rounds, k)
	}
	if p.prov {
		o.nprov--
	}
}

// welcome applies the backend's welcome: for every round the hello asked about, what the welcome
// says the backend holds is the truth (a round it does not list, it holds none of). Events the
// backend lacks and the outbox no longer has are rebuilt from the rounds' journals (written by
// Run) or raise an AlarmEventsLost. It reads journals: call it on the client's goroutine.
func (o *Outbox) welcome(asked, got []RoundSeq, wall string) {
	have := map[uint32]uint64{}
	for _, g := range got {
		have[g.Round] = g.Seq
	}
	need := map[roundKey][]seqRange{}
	o.mu.Lock()
	for _, a := range asked {
		k := roundKey{wall, a.Round}
		if miss := o.settle(k, have[a.Round], true); len(miss) > 0 {
			need[k] = miss
		}
		delete(have, a.Round)
	}
	for r, s := range have { // rounds not asked about: acknowledgements of what is pending
		if k := (roundKey{wall, r}); o.rounds[k] > 0 {
			o.settle(k, s, false)
		}
	}
	held := o.heldEvents(need)
	o.mu.Unlock()
	if len(need) == 0 {
		return
	}
	evs, rebuilt := o.fromJournals(need, held)
	found := map[roundKey][]uint64{}
	for _, e := range evs {
		found[keyOf(&e)] = append(found[keyOf(&e)], e.Seq)
	}
	if len(evs) > 0 {
		o.queueRebuilt(evs)
	}
	for k, rs := range need {
		for _, r := range rs {
			if r.to == 0 && rebuilt[k] {
				continue // the journal gave every event the round had
			}
			for _, lost := range subtract(r, found[k]) {
				o.raiseLost(k, lost, "")
			}
		}
	}
}

// subtract returns the parts of r that none of seqs is in.
func subtract(r seqRange, seqs []uint64) []seqRange {
	seqs = append([]uint64(nil), seqs...)
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	var out []seqRange
	next := r.from
	for _, s := range seqs {
		if !r.has(s) || s < next {
			continue
		}
		if s > next {
			out = append(out, seqRange{next, s - 1})
		}
		next = s + 1
	}
	if r.to == 0 || next <= r.to {
		out = append(out, seqRange{next, r.to})
	}
	return out
}

// trimAcked forgets acknowledged positions and journals of rounds that have nothing left in the
// outbox, keeping each wall's highest round (for MaxRound) and its JournalsKept latest journals,
// so the hello and the files stay small. Caller holds mu or owns the outbox.
func (o *Outbox) trimAcked() {
	top := map[string]uint32{}
	for k := range o.acked {
		top[k.wall] = max(top[k.wall], k.round)
	}
	for k := range o.journals {
		top[k.wall] = max(top[k.wall], k.round)
	}
	for k := range o.acked {
		if o.rounds[k] == 0 && k.round != top[k.wall] && o.journals[k] == "" {
			delete(o.acked, k)
			delete(o.confirmed, k)
		}
	}
	for k := range o.journals {
		if o.rounds[k] == 0 && k.round+JournalsKept <= top[k.wall] {
			delete(o.journals, k)
			o.metaDirty = true
		}
	}
}

// saveMeta writes journals.json when it changed. Writer only; no lock held across the disk.
func (o *Outbox) saveMeta() {
	o.mu.Lock()
	if !o.metaDirty {
		o.mu.Unlock()
		return
	}
	o.trimAcked()
	m := make(map[string]string, len(o.journals))
	for k, p := range o.journals {
		m[k.String()] = p
	}
	o.metaDirty = false
	o.mu.Unlock()
	b, _ := json.Marshal(m)
	if err := o.disk.writeFile(filepath.Join(o.dir, journalsFile), b); err != nil {
		o.log.Warn().Err(err).Msg("outbox: cannot save the rounds' journal paths")
		o.mu.Lock()
		o.metaDirty = true
		o.mu.Unlock()
	}
}

// maintain saves the acknowledged positions (atomically, fsynced) and then deletes the segments
// left with nothing pending. Writer only: the lock is held only to copy the state, never across
// the disk.
func (o *Outbox) maintain(force bool) {
	o.mu.Lock()
	if !o.ackDirty || (!force && time.Since(o.lastSave) < ackedSaveEvery) {
		o.mu.Unlock()
		return
	}
	o.trimAcked()
	m := make(map[string]uint64, len(o.acked))
	for k, s := range o.acked {
		m[k.String()] = s
	}
	var del []segment
	for _, s := range o.segs {
		if s.count <= 0 && s.idx != o.cur {
			del = append(del, s)
		}
	}
	o.ackDirty, o.lastSave = false, time.Now()
	o.mu.Unlock()
	b, _ := json.Marshal(m)
	if err := o.disk.writeFile(filepath.Join(o.dir, ackedFile), b); err != nil {
		o.log.Warn().Err(err).Msg("outbox: cannot save acked positions")
		o.mu.Lock()
		o.ackDirty = true
		o.mu.Unlock()
		return
	}
	if len(del) == 0 {
		return
	}
	gone := map[int]bool{}
	for _, s := range del { // only now that the acked positions are on disk
		if err := o.disk.remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			o.log.Warn().Err(err).Str("segment", s.path).Msg("outbox: cannot delete acknowledged segment")
			continue
		}
		gone[s.idx] = true
	}
	if err := o.disk.syncDir(o.dir); err != nil {
		o.log.Warn().Err(err).Msg("outbox: sync after deleting segments")
	}
	o.mu.Lock()
	keep := o.segs[:0]
	for _, s := range o.segs {
		if !gone[s.idx] {
			keep = append(keep, s)
		}
	}
	o.segs = keep
	o.mu.Unlock()
}

// After returns up to max sendable events appended after local position n, in order, and the
// position of the last one returned.
func (o *Outbox) After(n uint64, max int, dst []Event) ([]Event, uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := sort.Search(len(o.pend), func(i int) bool { return o.pend[i].n > n })
	for ; i < len(o.pend) && len(dst) < max; i++ {
		n = o.pend[i].n
		if !o.pend[i].prov {
			dst = append(dst, o.pend[i].Event)
		}
	}
	return dst, n
}

// Resend is signalled when events became sendable out of order (rebuilt from a journal, or held
// back by acked.json and not confirmed by the backend): the sender starts again from position 0.
func (o *Outbox) Resend() <-chan struct{} { return o.resend }

// firstPending returns the lowest sendable seq of wall's round and how many are pending.
func (o *Outbox) firstPending(wall string, round uint32) (first uint64, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.pend {
		if p := &o.pend[i]; p.Wall == wall && p.Round == round && !p.prov {
			if n == 0 || p.Seq < first {
				first = p.Seq
			}
			n++
		}
	}
	return first, n
}

// AckedList returns, for the hello, every round of wall the outbox holds events of or has a
// position for, with its acknowledged seq (0: none).
func (o *Outbox) AckedList(wall string) []RoundSeq {
	o.mu.Lock()
	defer o.mu.Unlock()
	seen := map[uint32]bool{}
	var out []RoundSeq
	add := func(k roundKey) {
		if k.wall == wall && !seen[k.round] {
			seen[k.round] = true
			out = append(out, RoundSeq{Round: k.round, Seq: o.acked[k]})
		}
	}
	for k := range o.acked {
		add(k)
	}
	for k := range o.rounds {
		add(k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Round < out[j].Round })
	return out
}

// Depth returns how many events are not yet acknowledged (durable or still queued). It never
// waits on the disk.
func (o *Outbox) Depth() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pend) - o.nprov + int(o.queued.Load())
}

// OldestAge returns how long the oldest unacknowledged durable event has waited (0: none). It
// never waits on the disk.
func (o *Outbox) OldestAge() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.pend {
		if !o.pend[i].prov {
			return time.Since(o.pend[i].added)
		}
	}
	return 0
}

// MaxRound returns the highest round number the outbox has seen for wall (acknowledged, pending,
// or noted by SetJournal), so a restarted show numbers its next round after it.
func (o *Outbox) MaxRound(wall string) uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var m uint32
	for k := range o.acked {
		if k.wall == wall {
			m = max(m, k.round)
		}
	}
	for k := range o.rounds {
		if k.wall == wall {
			m = max(m, k.round)
		}
	}
	for k := range o.journals {
		if k.wall == wall {
			m = max(m, k.round)
		}
	}
	return m
}

// Fsyncs returns how many group commits (each one write and one fsync) the outbox has done.
func (o *Outbox) Fsyncs() int64 { return o.fsyncs.Load() }

// TornBytes returns how many bytes of torn tail were cut when the outbox was opened.
func (o *Outbox) TornBytes() int { return o.cut }

// Close writes what is still queued (events submitted after Run returned included), saves the
// acknowledged positions and closes the segment. Call it after Run has returned. It returns an
// error when events could not be written.
func (o *Outbox) Close() error {
	if o.f == nil {
		return nil
	}
	err := o.shutdown(nil)
	if cerr := o.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("netsync: outbox: %w", cerr)
	}
	o.f = nil
	return err
}

// LastSeq returns the highest seq of wall's round the outbox holds durably or has seen
// acknowledged: a restarted producer continues after it.
func (o *Outbox) LastSeq(wall string, round uint32) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.acked[roundKey{wall, round}]
	for _, p := range o.pend {
		if p.Wall == wall && p.Round == round {
			m = max(m, p.Seq)
		}
	}
	return m
}

// WaitAcked blocks until every event is acknowledged and confirmed by the backend (nothing
// pending, nothing held on acked.json's word alone) or ctx ends; it returns how many events are
// still outstanding.
func (o *Outbox) WaitAcked(ctx context.Context) int {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		o.mu.Lock()
		n := len(o.pend) + int(o.queued.Load())
		o.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return n
		case <-t.C:
		}
	}
}

// SetAside moves an outbox directory out of the way, for a restarted primary that becomes a
// standby: its events must never be sent, but they are kept. The directory is renamed to
// DIR.set-aside-YYYYMMDDTHHMMSSZ (with -2, -3... if taken) and the rename is made durable
// (the parent directory fsynced). It returns the new path, or "" when dir does not exist.
func SetAside(dir string) (string, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("netsync: set aside outbox %s: %w", dir, err)
	}
	base := dir + ".set-aside-" + time.Now().UTC().Format("20060102T150405Z")
	newPath := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(newPath); errors.Is(err, os.ErrNotExist) {
			break
		}
		if i > 1000 {
			return "", fmt.Errorf("netsync: set aside outbox %s: too many set-aside copies named %s-N", dir, base)
		}
		newPath = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(dir, newPath); err != nil {
		return "", fmt.Errorf("netsync: set aside outbox %s: %w", dir, err)
	}
	if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
		return newPath, fmt.Errorf("netsync: set aside outbox %s as %s: %w", dir, newPath, err)
	}
	return newPath, nil
}
