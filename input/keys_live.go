package input

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// KeyReader reads the operator desk's keyboards and keypads through evdev, each in its own
// goroutine, so they work even when the wall window has no focus. Devices come and go like touch
// frames. Key events reach the frame goroutine through a bounded channel it never blocks on.
type KeyReader struct {
	names  []string
	grab   bool
	opener Opener
	log    zerolog.Logger
	epoch  int64
	after  func(time.Duration) <-chan time.Time
	reopen time.Duration
	out    chan KeyEvent
	mu     sync.Mutex
	up     map[string]bool
}

// NewKeyReader returns a reader of the keyboards called names (device names, as `tapwall devices`
// shows them). opt.Queue, EpochUS, After and Opener mean what they mean for a Reader.
func NewKeyReader(names []string, grab bool, reopen time.Duration, opt ReaderOptions) *KeyReader {
	if opt.After == nil {
		opt.After = time.After
	}
	if opt.Queue <= 0 {
		opt.Queue = 1024
	}
	return &KeyReader{names: names, grab: grab, opener: opt.Opener, log: opt.Log, epoch: opt.EpochUS, after: opt.After,
		reopen: reopen, out: make(chan KeyEvent, opt.Queue), up: map[string]bool{}}
}

// Events is the channel of key events.
func (k *KeyReader) Events() <-chan KeyEvent { return k.out }

// Connected reports, per keyboard name, whether it is open now.
func (k *KeyReader) Connected() map[string]bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	m := make(map[string]bool, len(k.up))
	for n, v := range k.up {
		m[n] = v
	}
	return m
}

// Run reads every keyboard until ctx is cancelled; it blocks until all have stopped.
func (k *KeyReader) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range k.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := k.log.With().Str("keyboard", name).Logger()
			set := func(v bool) { k.mu.Lock(); k.up[name] = v; k.mu.Unlock() }
			supervise(ctx, supervisor{opener: k.opener, after: k.after, reopen: k.reopen, log: log, grab: k.grab,
				find: func() (string, error) { return k.find(name) },
				read: func(dev Device, path string) error {
					set(true)
					log.Info().Str("path", path).Msg("desk keyboard connected")
					return k.read(dev, name)
				},
				down: func(error) { set(false) },
				lost: func() {},
			})
		}()
	}
	wg.Wait()
}

func (k *KeyReader) find(name string) (string, error) {
	devs, err := k.opener.List()
	if err != nil {
		return "", err
	}
	for _, d := range devs {
		if d.Name == name {
			return d.Path, nil
		}
	}
	return "", fmt.Errorf("%w: no keyboard called %q: check `tapwall devices` and keyboard.devices", ErrDevice, name)
}

func (k *KeyReader) read(dev Device, name string) error {
	return ReadEvents(dev, func(ev RawEvent) {
		if ev.Type != EvKey || ev.Value == 2 { // autorepeat: the cursor moves on held keys itself
			return
		}
		if key := KeyCodeName(ev.Code); key != "" {
			select {
			case k.out <- KeyEvent{Key: key, Pressed: ev.Value != 0, TimeUS: ev.TimeUS - k.epoch, Source: name}:
			default: // a stalled frame goroutine drops keys rather than blocking the reader
			}
		}
	})
}
