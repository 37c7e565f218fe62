// Which programs a service's `run` starts, as the build checks them against the image.
import { describe, expect, it } from "vitest";
import { programsOf } from "../../src/overlay/service-commands.js";

describe("programsOf", () => {
  it("takes the first word of each simple command", () => {
    expect(programsOf("httpd -f -p 80 -h /srv/www")).toEqual(["httpd"]);
    expect(programsOf("/usr/local/bin/hello --port 8080")).toEqual(["/usr/local/bin/hello"]);
    expect(programsOf("cd /srv && busybox httpd -f; logger done | tee /tmp/x")).toEqual(["busybox", "logger", "tee"]);
    expect(programsOf("echo starting\nbash --version\n")).toEqual(["bash"]);
  });

  it("looks through prefixes, keywords, assignments and redirections", () => {
    expect(programsOf("PORT=80 exec nohup nice -n 5 server >/dev/null 2>&1 &")).toEqual(["server"]);
    expect(programsOf("while true; do nc -l -p 80 -e /opt/respond.sh; done")).toEqual(["nc"]);
    expect(programsOf("if [ -x /opt/a ]; then a-tool; else b-tool; fi")).toEqual(["a-tool", "b-tool"]);
    expect(programsOf("timeout -s KILL 10 fetcher")).toEqual(["fetcher"]);
  });

  it("unwraps sh -c and skips what only the shell knows", () => {
    expect(programsOf("sh -c 'httpd -f -p 80'")).toEqual(["sh", "httpd"]);
    expect(programsOf('/bin/sh -c "a; b"')).toEqual(["/bin/sh", "a", "b"]);
    expect(programsOf("serve() { busybox nc -l -p 80; }\nserve")).toEqual(["busybox"]);
    expect(programsOf('$DAEMON --foreground\n"$X"\n./local-script\n# a comment\nfor i in 1 2; do :; done')).toEqual([]);
  });

  it("looks inside $(...) and backticks, not into $((arithmetic))", () => {
    expect(programsOf('echo "$(partd --version)"')).toEqual(["partd"]);
    expect(programsOf("x=`hostnme -s`; echo $x")).toEqual(["hostnme"]);
    expect(programsOf("echo $(( 1 + 2 )) $(a $(b))").sort()).toEqual(["a", "b"]);
  });

  it("an assignment from a substitution runs only what is inside it", () => {
    expect(programsOf("n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n + 1)) > /tmp/n")).toEqual(["cat"]);
    expect(programsOf("n=$((n + 1)); v=$(uname -r) lsmod | grep e1000")).toEqual(["uname", "lsmod", "grep"]);
  });
});
