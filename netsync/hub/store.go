package hub

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"tapwall/netsync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var eventsBucket = []byte("events")

// Store is the backend's durable record of score events, in bbolt (every commit is fsynced):
// events by wall, round and seq, and in memory the highest stored seq and the lane totals of every
// round. Safe for concurrent use.
type Store struct {
	db     *bolt.DB
	mu     sync.Mutex
	seqs   map[string]uint64 // ackKey(wall, round) -> highest stored seq
	totals map[string]map[uint32]*roundTotal
}

type roundTotal struct {
	events int
	lanes  map[int]int64
}

// Outcome is what the store did with one event of a commit.
type Outcome uint8

// Outcomes of Commit.
const (
	Stored    Outcome = iota // committed and counted
	Duplicate                // already stored: acknowledged again, not counted
	Gap                      // not the next seq of its round: refused
)

// OpenStore opens (creating) the store at path and loads its totals.
func OpenStore(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("netsync: store %s: %w (another scorehub using it?)", path, err)
	}
	s := &Store{db: db, seqs: map[string]uint64{}, totals: map[string]map[uint32]*roundTotal{}}
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(eventsBucket)
		if err != nil {
			return err
		}
		return root.ForEachBucket(func(wall []byte) error {
			return root.Bucket(wall).ForEachBucket(func(rk []byte) error {
				round := binary.BigEndian.Uint32(rk)
				return root.Bucket(wall).Bucket(rk).ForEach(func(k, v []byte) error {
					var e netsync.Event
					if err := json.Unmarshal(v, &e); err != nil {
						return fmt.Errorf("event %s/%d/%d: %w", wall, round, binary.BigEndian.Uint64(k), err)
					}
					s.count(e)
					return nil
				})
			})
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("netsync: store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) count(e netsync.Event) {
	k := ackKey(e.Wall, e.Round)
	s.seqs[k] = max(s.seqs[k], e.Seq)
	w := s.totals[e.Wall]
	if w == nil {
		w = map[uint32]*roundTotal{}
		s.totals[e.Wall] = w
	}
	r := w[e.Round]
	if r == nil {
		r = &roundTotal{lanes: map[int]int64{}}
		w[e.Round] = r
	}
	r.events++
	r.lanes[e.Lane] += e.Delta
}

// Commit stores evs in one transaction, fsynced, in order: each is Stored, a Duplicate of one
// already stored, or refused for a Gap. Nothing is stored if the transaction fails.
func (s *Store) Commit(evs []netsync.Event) ([]Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Outcome, len(evs))
	next := map[string]uint64{}
	var stored []netsync.Event
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(eventsBucket)
		for i, e := range evs {
			k := ackKey(e.Wall, e.Round)
			have, ok := next[k]
			if !ok {
				have = s.seqs[k]
			}
			switch {
			case e.Seq <= have:
				out[i] = Duplicate
				continue
			case e.Seq != have+1:
				out[i] = Gap
				continue
			}
			wb, err := root.CreateBucketIfNotExists([]byte(e.Wall))
			if err != nil {
				return err
			}
			var rk [4]byte
			binary.BigEndian.PutUint32(rk[:], e.Round)
			rb, err := wb.CreateBucketIfNotExists(rk[:])
			if err != nil {
				return err
			}
			var sk [8]byte
			binary.BigEndian.PutUint64(sk[:], e.Seq)
			v, _ := json.Marshal(e)
			if err := rb.Put(sk[:], v); err != nil {
				return err
			}
			next[k] = e.Seq
			out[i] = Stored
			stored = append(stored, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("netsync: store commit: %w", err)
	}
	for _, e := range stored { // only what is on disk counts
		s.count(e)
	}
	return out, nil
}

// StoredSeq returns the highest stored seq of wall's round.
func (s *Store) StoredSeq(wall string, round uint32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqs[ackKey(wall, round)]
}

// Acked returns the highest stored seq of every round of wall, for the welcome.
func (s *Store) Acked(wall string) []netsync.RoundSeq {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []netsync.RoundSeq
	for r := range s.totals[wall] {
		out = append(out, netsync.RoundSeq{Round: r, Seq: s.seqs[ackKey(wall, r)]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Round < out[j].Round })
	return out
}

// Totals is the JSON of GET /api/totals.
type Totals struct {
	Walls []WallTotals `json:"walls"`
}

// WallTotals is one wall's rounds in Totals.
type WallTotals struct {
	Wall   string        `json:"wall"`
	Rounds []RoundTotals `json:"rounds"`
}

// RoundTotals is one round's events and lane scores in Totals.
type RoundTotals struct {
	Round  uint32      `json:"round"`
	Events int         `json:"events"`
	Lanes  []LaneTotal `json:"lanes"`
}

// LaneTotal is one lane's score: the sum of its stored events' deltas.
type LaneTotal struct {
	Lane  int   `json:"lane"`
	Score int64 `json:"score"`
}

// Totals returns every wall's rounds with their lane totals, sorted.
func (s *Store) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Totals{Walls: []WallTotals{}}
	walls := make([]string, 0, len(s.totals))
	for w := range s.totals {
		walls = append(walls, w)
	}
	sort.Strings(walls)
	for _, w := range walls {
		wt := WallTotals{Wall: w}
		for r, rt := range s.totals[w] {
			row := RoundTotals{Round: r, Events: rt.events}
			for l, sc := range rt.lanes {
				row.Lanes = append(row.Lanes, LaneTotal{Lane: l, Score: sc})
			}
			sort.Slice(row.Lanes, func(i, j int) bool { return row.Lanes[i].Lane < row.Lanes[j].Lane })
			wt.Rounds = append(wt.Rounds, row)
		}
		sort.Slice(wt.Rounds, func(i, j int) bool { return wt.Rounds[i].Round < wt.Rounds[j].Round })
		t.Walls = append(t.Walls, wt)
	}
	return t
}

// MaxRound returns the highest round stored for wall.
func (s *Store) MaxRound(wall string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m uint32
	for r := range s.totals[wall] {
		m = max(m, r)
	}
	return m
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func ackKey(wall string, round uint32) string {
	return wall + "/" + strconv.FormatUint(uint64(round), 10)
}
