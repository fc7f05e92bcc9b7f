// Command scorehub is the reference scoring backend for tapwall walls: it stores every score event
// durably (bbolt, fsync on commit), acknowledges only what is committed, drops duplicates, refuses
// gaps, and serves live totals, health, metrics and a live page. Show developers run it, test
// against it and copy it.
//
//	scorehub --listen 127.0.0.1:8090 --db scores.db [--token T] [--cert F --key F]
//	scorehub start-round --wall W --at +5s --game G --seed N [--server URL] [--token T] [--round R]
//	scorehub abort-round --wall W --round R [--server URL] [--token T]
//
// Exit codes: 0 success, 1 runtime failure, 2 bad usage or environment.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tapwall/cmd/internal/logs"
	"tapwall/netsync/hub"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "start-round" {
		os.Exit(startRound(args[1:], os.Stdout, os.Stderr))
	}
	if len(args) > 0 && args[0] == "abort-round" {
		os.Exit(abortRound(args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(serve(args, os.Stderr))
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("scorehub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on (localhost unless told otherwise)")
	db := fs.String("db", "", "store file (bbolt); required")
	token := fs.String("token", "", "token every wall must present (and POST /api/start)")
	cert := fs.String("cert", "", "TLS certificate (PEM) for wss:// and https://")
	key := fs.String("key", "", "TLS key (PEM)")
	format := fs.String("log-format", "json", "log format on stderr: json or console")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: scorehub --listen ADDR --db PATH [--token T] [--cert F --key F]\n       scorehub start-round -h\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := logs.New(stderr, *format, "info")
	if err != nil || *db == "" || (*cert == "") != (*key == "") {
		if err != nil {
			fmt.Fprintln(stderr, "scorehub:", err)
		}
		fs.Usage()
		return 2
	}
	store, err := hub.OpenStore(*db)
	if err != nil {
		fmt.Fprintln(stderr, "scorehub:", err)
		return 2
	}
	defer store.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "scorehub:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hub := hub.NewHub(store, hub.HubConfig{Token: *token, Log: log})
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	srv := &http.Server{Handler: hub.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info().Str("listen", ln.Addr().String()).Str("db", *db).Bool("tls", *cert != "").Bool("token", *token != "").Msg("scorehub listening")
	if *cert != "" {
		err = srv.ServeTLS(ln, *cert, *key)
	} else {
		err = srv.Serve(ln)
	}
	<-done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error().Err(err).Msg("server failed")
		return 1
	}
	log.Info().Msg("scorehub stopped")
	return 0
}

// commandFlags are the flags that every command sent to a running scorehub has.
type commandFlags struct {
	fs                  *flag.FlagSet
	server, wall, token *string
}

func newCommandFlags(name string, stderr io.Writer) commandFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return commandFlags{
		fs:     fs,
		server: fs.String("server", "http://127.0.0.1:8090", "the running scorehub"),
		wall:   fs.String("wall", "", "wall id; required"),
		token:  fs.String("token", "", "the scorehub's token"),
	}
}

// parse parses args; when the command must stop (-h, or a bad flag), ok is false and code is its
// exit code.
func (c commandFlags) parse(args []string) (code int, ok bool) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

func startRound(args []string, stdout, stderr io.Writer) int {
	c := newCommandFlags("start-round", stderr)
	at := c.fs.String("at", "+5s", "show time of the round's tick 0: +DURATION from now, or Unix microseconds")
	gameName := c.fs.String("game", "targets", "game: targets or rain")
	seed := c.fs.Uint64("seed", 1, "round seed")
	round := c.fs.Uint("round", 0, "round number (0: the next after the highest stored for the wall)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	var atUS int64
	if d, ok := strings.CutPrefix(*at, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil {
			fmt.Fprintf(stderr, "scorehub start-round: --at %q: %v\n", *at, err)
			return 2
		}
		atUS = time.Now().Add(dur).UnixMicro()
	} else if v, err := strconv.ParseInt(*at, 10, 64); err == nil {
		atUS = v
	} else {
		fmt.Fprintf(stderr, "scorehub start-round: --at %q: give +5s or Unix microseconds\n", *at)
		return 2
	}
	if *c.wall == "" {
		fmt.Fprintln(stderr, "scorehub start-round: --wall is required")
		return 2
	}
	body, _ := json.Marshal(hub.StartRequest{Wall: *c.wall, Round: uint32(*round), Game: *gameName, Seed: *seed, AtUS: atUS})
	return post(*c.server, "/api/start", *c.token, body, stdout, stderr, "start-round")
}

func abortRound(args []string, stdout, stderr io.Writer) int {
	c := newCommandFlags("abort-round", stderr)
	round := c.fs.Uint("round", 0, "round to abort; required")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *c.wall == "" || *round == 0 {
		fmt.Fprintln(stderr, "scorehub abort-round: --wall and --round are required")
		return 2
	}
	body, _ := json.Marshal(map[string]any{"wall": *c.wall, "round": *round})
	return post(*c.server, "/api/abort", *c.token, body, stdout, stderr, "abort-round")
}

// post sends a command to the running scorehub and prints its answer.
func post(server, path, token string, body []byte, stdout, stderr io.Writer, cmd string) int {
	req, _ := http.NewRequest("POST", strings.TrimSuffix(server, "/")+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "scorehub %s: %v\n", cmd, err)
		return 1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "scorehub %s: %s: %s", cmd, resp.Status, b)
		return 1
	}
	stdout.Write(b)
	return 0
}
