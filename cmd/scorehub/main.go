// Command scorehub is the reference scoring backend for tapwall walls: it stores every score event
// durably (bbolt, fsync on commit), acknowledges only what is committed, drops duplicates, refuses
// gaps and conflicting events, fences walls by epoch, and serves live totals, the walls' status,
// health, metrics, a live page, a broadcast overlay and a director's page. Show developers run it,
// test against it and copy it.
//
//	scorehub --listen 127.0.0.1:8090 --db scores.db [--token T] [--allowed-host H]... [--cert F --key F]
//	scorehub start-round --wall W --at +5s --game G --seed N [--round R] [--names a,b,c,d] [--replace] [--server URL] [--token T]
//	scorehub abort-round --wall W --round R [--server URL] [--token T]
//	scorehub reset-epoch --wall W [--server URL] [--token T]
//	scorehub check-db --db PATH
//
// Exit codes: 0 success; 1 runtime failure, or a command the running scorehub refused; 2 bad
// usage or environment, or a damaged store (named on stderr).
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
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tapwall/cmd/internal/logs"
	"tapwall/netsync/hub"
)

// checkTimeout bounds the store check before serving: a damaged file can make bbolt loop.
const checkTimeout = 5 * time.Minute

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "start-round":
			os.Exit(startRound(args[1:], os.Stdout, os.Stderr))
		case "abort-round":
			os.Exit(abortRound(args[1:], os.Stdout, os.Stderr))
		case "reset-epoch":
			os.Exit(resetEpoch(args[1:], os.Stdout, os.Stderr))
		case "check-db":
			os.Exit(checkDB(args[1:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(serve(args, os.Stderr))
}

// hostList is the repeatable --allowed-host flag; each value may be a comma list.
type hostList []string

// String returns the hosts as a comma list.
func (l *hostList) String() string { return strings.Join(*l, ",") }

// Set adds one --allowed-host value (a host or a comma list of them).
func (l *hostList) Set(v string) error {
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" || strings.ContainsAny(h, "/ @?#") {
			return fmt.Errorf("%q is not a host name or host:port", h)
		}
		*l = append(*l, h)
	}
	return nil
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("scorehub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on (localhost unless told otherwise)")
	db := fs.String("db", "", "store file (bbolt); required")
	token := fs.String("token", "", "token every wall must present, and every state-changing API request")
	var allowed hostList
	fs.Var(&allowed, "allowed-host", "another name or name:port requests may carry in their Host header, besides the --listen address (repeatable, or a comma list)")
	cert := fs.String("cert", "", "TLS certificate (PEM) for wss:// and https://")
	key := fs.String("key", "", "TLS key (PEM)")
	format := fs.String("log-format", "json", "log format on stderr: json or console")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: scorehub --listen ADDR --db PATH [--token T] [--allowed-host H]... [--cert F --key F]\n"+
			"       scorehub start-round|abort-round|reset-epoch|check-db -h\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := logs.New(stderr, *format, *level)
	if err != nil || *db == "" || (*cert == "") != (*key == "") || fs.NArg() > 0 {
		if err != nil {
			fmt.Fprintln(stderr, "scorehub:", err)
		}
		fs.Usage()
		return 2
	}
	if err := checkStore(*db); err != nil {
		fmt.Fprintln(stderr, "scorehub:", err)
		return 2
	}
	store, err := openStore(*db)
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
	hosts := append(listenHosts(*listen, ln.Addr()), allowed...)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := hub.NewHub(store, hub.HubConfig{Token: *token, Log: log, Hosts: hosts})
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	srv := h.Server()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Info().Str("listen", ln.Addr().String()).Str("db", *db).Bool("tls", *cert != "").Bool("token", *token != "").
		Strs("hosts", hosts).Msg("scorehub listening")
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

// listenHosts returns the Host header values the listener answers to: the --listen name if it is
// one, and the address it listens on (every interface's address and the machine's name for
// 0.0.0.0 or ::, the loopback names for a loopback address), with its port.
func listenHosts(listen string, addr net.Addr) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return []string{addr.String()}
	}
	port := strconv.Itoa(tcp.Port)
	var names []string
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" && net.ParseIP(h) == nil {
		names = append(names, h)
	}
	switch {
	case tcp.IP.IsUnspecified():
		names = append(names, "localhost", "127.0.0.1", "::1")
		if name, err := os.Hostname(); err == nil && name != "" {
			names = append(names, name)
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					names = append(names, n.IP.String())
				}
			}
		}
	case tcp.IP.IsLoopback():
		names = append(names, "localhost", "127.0.0.1", "::1")
	default:
		names = append(names, tcp.IP.String())
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, net.JoinHostPort(n, port))
	}
	return out
}

// checkStore checks the store file before it is served, in a child process (scorehub check-db):
// a damaged bbolt file can fault or throw in ways no recover catches, and that must end in an
// error naming the file, not in a crash of the server.
func checkStore(db string) error {
	if fi, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return nil // a new store
	} else if err != nil {
		return fmt.Errorf("store %s: %w", db, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("store %s is not a regular file", db)
	}
	exe, err := os.Executable()
	if err != nil {
		return inProcessCheck(db)
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "check-db", "--db", db)
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &out
	err = cmd.Run()
	if err == nil {
		return nil
	}
	const fix = "restore it from a backup, or move it aside to start an empty store"
	if ctx.Err() != nil {
		return fmt.Errorf("store %s: checking it did not finish within %v (damaged?); %s", db, checkTimeout, fix)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("store %s: cannot run the check (%v)", db, err)
	}
	lines := strings.Split(out.String(), "\n")
	for _, l := range lines {
		if msg, ok := strings.CutPrefix(l, "scorehub check-db: "); ok && ee.ExitCode() == 2 {
			if strings.Contains(msg, "another scorehub") {
				return errors.New(msg)
			}
			return fmt.Errorf("%s; %s", msg, fix)
		}
	}
	why := ee.String() // "exit status 2" or "signal: segmentation fault"
	for _, l := range lines {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "unexpected fault address") {
			why = strings.TrimPrefix(strings.TrimPrefix(l, "panic: "), "fatal error: ") + ", " + why
			break
		}
	}
	return fmt.Errorf("store %s is damaged: reading it crashed the check (%.200s); %s", db, why, fix)
}

// inProcessCheck is checkStore's fallback when scorehub cannot find its own executable: it catches
// what a recover can.
func inProcessCheck(db string) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store %s is damaged: reading it failed (%v)", db, p)
		}
	}()
	return hub.CheckFile(db)
}

// openStore opens the checked store; a fault that slips through is an error, not a crash.
func openStore(db string) (s *hub.Store, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store %s is damaged: opening it failed (%v)", db, p)
		}
	}()
	return hub.OpenStore(db)
}

// limitedBuffer keeps the first 64 KiB written to it (a crash's stack trace can be long).
type limitedBuffer struct{ bytes.Buffer }

// Write keeps what fits and reports everything written.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func checkDB(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store file (bbolt); required")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *db == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "scorehub check-db: --db is required")
		return 2
	}
	if _, err := os.Stat(*db); err != nil {
		fmt.Fprintf(stderr, "scorehub check-db: %v\n", err)
		return 2
	}
	if err := hub.CheckFile(*db); err != nil {
		fmt.Fprintf(stderr, "scorehub check-db: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "%s: ok\n", *db)
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
	if c.fs.NArg() > 0 {
		fmt.Fprintf(c.fs.Output(), "scorehub %s: unexpected argument %q\n", c.fs.Name(), c.fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func startRound(args []string, stdout, stderr io.Writer) int {
	c := newCommandFlags("start-round", stderr)
	at := c.fs.String("at", "+5s", "show time of the round's tick 0: +DURATION from now, or Unix microseconds")
	gameName := c.fs.String("game", "targets", "game: targets or rain")
	seed := c.fs.Uint64("seed", 1, "round seed")
	round := c.fs.Uint("round", 0, "round number (0: the next after every round scorehub knows of the wall)")
	names := c.fs.String("names", "", "contestants' names per lane, comma separated (a,b,c,d)")
	replace := c.fs.Bool("replace", false, "end the round the wall is running (refused without it)")
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
	if *round > 1<<32-1 {
		fmt.Fprintf(stderr, "scorehub start-round: --round %d is too big\n", *round)
		return 2
	}
	var nameList []string
	if *names != "" {
		for _, n := range strings.Split(*names, ",") {
			nameList = append(nameList, strings.TrimSpace(n))
		}
	}
	body, _ := json.Marshal(hub.StartRequest{Wall: *c.wall, Round: uint32(*round), Game: *gameName, Seed: *seed, AtUS: atUS,
		Names: nameList, Replace: *replace})
	return post(*c.server, "/api/start", *c.token, body, stdout, stderr, "start-round")
}

func abortRound(args []string, stdout, stderr io.Writer) int {
	c := newCommandFlags("abort-round", stderr)
	round := c.fs.Uint("round", 0, "round to abort; required")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *c.wall == "" || *round == 0 || *round > 1<<32-1 {
		fmt.Fprintln(stderr, "scorehub abort-round: --wall and --round (1..4294967295) are required")
		return 2
	}
	body, _ := json.Marshal(hub.AbortRequest{Wall: *c.wall, Round: uint32(*round)})
	return post(*c.server, "/api/abort", *c.token, body, stdout, stderr, "abort-round")
}

func resetEpoch(args []string, stdout, stderr io.Writer) int {
	c := newCommandFlags("reset-epoch", stderr)
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: scorehub reset-epoch --wall W [--server URL] [--token T]\n\n"+
			"Forgets the wall's fencing epoch for a new show day, so its machines (whose epoch starts at 1\n"+
			"again) are let in; the next hello sets the epoch. Refused while a machine of the wall is connected.\n\nFlags:\n")
		c.fs.PrintDefaults()
	}
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *c.wall == "" {
		fmt.Fprintln(stderr, "scorehub reset-epoch: --wall is required")
		return 2
	}
	body, _ := json.Marshal(hub.ResetEpochRequest{Wall: *c.wall})
	return post(*c.server, "/api/reset-epoch", *c.token, body, stdout, stderr, "reset-epoch")
}

// post sends a command to the running scorehub and prints its answer: the JSON on stdout and exit
// 0, or the refusal on stderr and exit 1.
func post(server, path, token string, body []byte, stdout, stderr io.Writer, cmd string) int {
	req, err := http.NewRequest("POST", strings.TrimSuffix(server, "/")+path, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "scorehub %s: --server %q: %v\n", cmd, server, err)
		return 2
	}
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
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e hub.APIError
		if json.Unmarshal(b, &e) == nil && e.Code != "" {
			fmt.Fprintf(stderr, "scorehub %s: %s: %s: %s\n", cmd, resp.Status, e.Code, e.Message)
		} else {
			fmt.Fprintf(stderr, "scorehub %s: %s: %s\n", cmd, resp.Status, bytes.TrimSpace(b))
		}
		return 1
	}
	stdout.Write(b)
	return 0
}
