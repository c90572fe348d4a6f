package websocket_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/test/harness"
)

// The chat of docs/websocket.md, as written there: docs/examples/
// websocket-chat/chat.yaml served by a gateway, and backend/server.mjs (AWS
// SDK for JavaScript) broadcasting through @connections.
func TestTheChatExampleOfTheDocsWorks(t *testing.T) {
	example := filepath.Join(harness.RepoRoot(), "docs", "examples", "websocket-chat")
	yaml, err := os.ReadFile(filepath.Join(example, "chat.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	backendAddr := harness.FreeAddr(t)
	cfg := strings.Replace(string(yaml), `backend: "127.0.0.1:3000"`, `backend: "`+backendAddr+`"`, 1)
	if cfg == string(yaml) {
		t.Fatal("chat.yaml no longer names the backend as the test expects")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "chat.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const host = "chat.default.execute-api.localhost"
	gwAddr := harness.FreeAddr(t)
	startGatewayFor(t, host, dir, gwAddr)

	// The backend, run from the SDK directory (its node_modules).
	sdk := sdkDir(t)
	server, err := os.ReadFile(filepath.Join(example, "backend", "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdk, "chat-example.mjs"), server, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "--no-warnings", "--import", "./loopback-dns.mjs", "chat-example.mjs")
	cmd.Dir = sdk
	cmd.Env = append(os.Environ(), "PORT="+portOf(backendAddr), "TURNPIKE_ENDPOINT=http://"+host+":"+portOf(gwAddr)+"/prod",
		"AWS_ACCESS_KEY_ID=AKIDCHATEXAMPLE00001", "AWS_SECRET_ACCESS_KEY=chat-example-secret-change-me-0123456789")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); !strings.Contains(line, "listening") {
		t.Fatalf("the backend printed %q", line)
	}

	dial := func(query string) (*ws.Conn, *http.Response, error) {
		return ws.Dial(t.Context(), "ws://"+gwAddr+"/prod"+query, &ws.DialOptions{Host: host})
	}
	if _, resp, err := dial(""); err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("connecting without a name: %v %v, want the backend's 400", err, resp)
	}
	alice, _, err := dial("?name=alice")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = alice.CloseNow() }()
	bob, _, err := dial("?name=bob")
	if err != nil {
		t.Fatal(err)
	}
	say := func(c *ws.Conn, msg string) {
		if err := c.Write(t.Context(), ws.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	say(alice, `{"action":"sendmessage","message":"hi bob"}`)
	for _, c := range []*ws.Conn{alice, bob} {
		if got := readText(t, c); got != "alice: hi bob" {
			t.Errorf("got %q", got)
		}
	}
	say(bob, `{"hello":true}`)
	if got := readText(t, bob); !strings.Contains(got, `"action":"sendmessage"`) {
		t.Errorf("$default answered %q", got)
	}
	_ = bob.Close(ws.StatusNormalClosure, "")
	time.Sleep(200 * time.Millisecond) // $disconnect reaches the backend
	say(alice, `{"action":"sendmessage","message":"anyone?"}`)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, got, err := alice.Read(ctx); err != nil || string(got) != "alice: anyone?" {
		t.Errorf("after bob left: %q %v", got, err)
	}
}
