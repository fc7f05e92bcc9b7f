package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"tapwall/game"
	"tapwall/netsync"
)

// backendOpts are the flags that connect a command to the scoring backend.
type backendOpts struct {
	url, wall, token, outbox, ca string
}

func backendFlags(fs *flag.FlagSet) *backendOpts {
	b := &backendOpts{}
	fs.StringVar(&b.url, "backend", "", "scoring backend, ws://HOST:PORT/ws or wss://...")
	fs.StringVar(&b.wall, "wall", "", "wall id sent to the backend (default: the config's wall.id)")
	fs.StringVar(&b.token, "token", "", "the backend's token")
	fs.StringVar(&b.outbox, "outbox", "outbox", "directory of the durable score outbox")
	fs.StringVar(&b.ca, "backend-ca", "", "PEM certificate to trust for a wss:// backend with its own certificate")
	return b
}

func (b *backendOpts) check() error {
	if b.wall != "" {
		if err := game.CheckWallID(b.wall); err != nil {
			return fmt.Errorf("--wall: %w", err)
		}
	}
	if b.url == "" {
		return nil
	}
	u, err := url.Parse(b.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("--backend %q: give ws://HOST:PORT/ws or wss://HOST:PORT/ws", b.url)
	}
	if b.outbox == "" {
		return fmt.Errorf("--outbox: a backend needs an outbox directory")
	}
	return nil
}

// backendLink is a running outbox and client.
type backendLink struct {
	ctx    context.Context
	cancel context.CancelFunc
	outbox *netsync.Outbox
	client *netsync.Client
	wg     sync.WaitGroup
	runErr error // the outbox's Run: events it could not write at shutdown
}

func (b *backendOpts) start(log zerolog.Logger) (*backendLink, error) {
	tc, err := netsync.TLSWithCA(b.ca)
	if err != nil {
		return nil, err
	}
	ob, err := netsync.OpenOutbox(b.outbox, 0, log)
	if err != nil {
		return nil, err
	}
	cl, err := netsync.NewClient(netsync.ClientConfig{URL: b.url, Wall: b.wall, Token: b.token, Outbox: ob, Log: log, TLS: tc})
	if err != nil {
		return nil, err
	}
	l := &backendLink{outbox: ob, client: cl}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.runErr = ob.Run(l.ctx) }()
	go func() { defer l.wg.Done(); cl.Run(l.ctx) }()
	return l, nil
}

// flush waits until every event is acknowledged or timeout passes; it returns how many are left.
func (l *backendLink) flush(timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(l.ctx, timeout)
	defer cancel()
	return l.outbox.WaitAcked(ctx)
}

// stop ends the link and closes the outbox, which writes what is still queued; it returns the
// error that kept events off the disk, if any.
func (l *backendLink) stop() error {
	l.cancel()
	l.wg.Wait()
	err := l.runErr
	if cerr := l.outbox.Close(); cerr != nil {
		err = cerr
	}
	return err
}
