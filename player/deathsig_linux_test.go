//go:build linux

package player

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes TestHelperLaunchMPV run: it is the process that TestMPVDiesWithUs kills.
const helperEnv = "WATCHPARTY_TEST_LAUNCH_HELPER"

// TestMPVDiesWithUs: a process that started mpv through Launch is killed with SIGKILL (no
// handler, no Close); its mpv must be gone within 2 s.
func TestMPVDiesWithUs(t *testing.T) {
	needMPV(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperLaunchMPV$", "-test.count=1")
	helper.Env = append(os.Environ(), helperEnv+"=1")
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	t.Cleanup(func() {
		_ = helper.Process.Kill()
		_ = helper.Wait()
		if pid > 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // do not leave it behind when the test fails
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(30 * time.Second)
	for pid == 0 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("the helper ended without starting mpv")
			}
			if s, found := strings.CutPrefix(line, "mpv pid "); found {
				if pid, err = strconv.Atoi(s); err != nil {
					t.Fatalf("helper said %q", line)
				}
			}
		case <-deadline:
			t.Fatal("the helper did not start mpv within 30 s")
		}
	}
	if !alive(pid) {
		t.Fatalf("mpv %d is not running before the helper is killed", pid)
	}
	killed := time.Now()
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	for alive(pid) {
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("mpv %d still runs 2 s after the process that started it was killed", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("mpv %d gone %v after its parent was killed with SIGKILL", pid, time.Since(killed).Round(time.Millisecond))
}

// TestHelperLaunchMPV is not a test: TestMPVDiesWithUs runs it in a child process. It starts
// mpv from a goroutine locked to its thread that then ends, so that its thread is retired (a
// parent-death signal tied to that thread would kill mpv now), checks mpv still answers, prints
// its pid and waits to be killed.
func TestHelperLaunchMPV(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process of TestMPVDiesWithUs")
	}
	launched := make(chan *Player)
	var launch func()
	launch = func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if syscall.Gettid() == os.Getpid() {
			// The main thread is never retired: keep it here and launch from another one.
			go launch()
			select {}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		p, err := Launch(ctx, LaunchOptions{ExtraArgs: []string{"--vo=null", "--ao=null"}, NoWindow: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "launch:", err)
			os.Exit(1)
		}
		launched <- p
	}
	go launch()
	p := <-launched
	time.Sleep(300 * time.Millisecond) // give the retired thread's death time to matter
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var v string
	if err := p.GetProperty(ctx, "mpv-version", &v); err != nil {
		fmt.Fprintln(os.Stderr, "mpv died with the thread that launched it:", err)
		os.Exit(1)
	}
	fmt.Printf("mpv pid %d\n", p.Pid())
	select {} // until killed
}

// alive reports whether pid is a running process (a zombie nobody reaped yet counts as gone).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
