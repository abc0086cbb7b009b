"""What notebook users expect from the rlcd4j kernel, checked with jupyter_client against a real kernel process:
a failing cell leaves the kernel alive, interrupt stops a long cell, progress is one live line, magics work,
shutdown is prompt.

Run: JUPYTER_PATH=<dir with kernels/rlcd-java> /usr/bin/python3 -Xfrozen_modules=off -m unittest -v test_kernel_behaviour
"""
import os
import queue
import re
import threading
import time
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL_NAME = os.environ.get("KERNEL_NAME", "rlcd-java")


def run(kc, code, timeout=60):
    """Executes code; returns (reply content, list of iopub messages for this request)."""
    msg_id = kc.execute(code)
    outputs = []
    deadline = time.time() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
    return reply["content"], outputs


def result_text(outputs):
    for m in outputs:
        if m["msg_type"] == "execute_result":
            return m["content"]["data"]["text/plain"]
    return None


class KernelBehaviour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # %maven must not reach the network from a test: resolve from ~/.m2 only (the kernel inherits this env).
        os.environ["RLCD4J_MAVEN_OFFLINE"] = "true"
        cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def test_failing_cells_leave_the_kernel_alive(self):
        run(self.kc, "int kept = 41;")
        failures = {
            'throw new IllegalStateException("boom");': "IllegalStateException",
            "int[] a = new int[1]; a[5]": "ArrayIndexOutOfBoundsException",
            "int deep(int x) { return deep(x + 1) + 1; }\ndeep(1)": "CellError",
            "int y = undefinedName + 1;": "CompileError",
            'throw new java.io.IOException("disk");': "IOException",
        }
        for code, ename in failures.items():
            with self.subTest(code=code):
                reply, outputs = run(self.kc, code)
                self.assertEqual(reply["status"], "error")
                self.assertEqual(reply["ename"], ename)
                errors = [m for m in outputs if m["msg_type"] == "error"]
                self.assertEqual(len(errors), 1)
                self.assertTrue(errors[0]["content"]["traceback"], "traceback must not be empty")
        reply, outputs = run(self.kc, "kept + 1")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(result_text(outputs), "42")

    def test_compile_error_points_at_the_line(self):
        reply, outputs = run(self.kc, "int a = 1;\nint b = a + missing;\n")
        self.assertEqual(reply["ename"], "CompileError")
        tb = "\n".join(next(m for m in outputs if m["msg_type"] == "error")["content"]["traceback"])
        self.assertIn("cannot find symbol", tb)
        self.assertIn("line 2", tb)
        self.assertIn("^", tb)

    def interrupt_after(self, code, delay):
        results = queue.Queue()
        threading.Thread(target=lambda: results.put(run(self.kc, code, timeout=60))).start()
        time.sleep(delay)
        t0 = time.time()
        self.km.interrupt_kernel()
        reply, _ = results.get(timeout=30)
        return reply, time.time() - t0

    def test_interrupt_stops_a_sleeping_cell(self):
        reply, took = self.interrupt_after("while (true) Thread.sleep(50);", 1.5)
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "CellInterrupted")
        self.assertLess(took, 5)
        reply, outputs = run(self.kc, "1 + 1")
        self.assertEqual(result_text(outputs), "2")

    def test_interrupt_stops_a_busy_loop(self):
        run(self.kc, "long spins = 0;")
        reply, took = self.interrupt_after("while (true) { spins++; }", 1.5)
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "CellInterrupted")
        self.assertLess(took, 8)
        reply, outputs = run(self.kc, "spins > 0")
        self.assertEqual(result_text(outputs), "true")

    def test_progress_is_one_line_updated_in_place(self):
        code = ('try (var p = rlcd4j.progress.Progress.start("steps", 40)) {\n'
                '  for (int i = 0; i < 40; i++) { Thread.sleep(50); p.advance(1); p.status("i=" + i); }\n'
                '}')
        reply, outputs = run(self.kc, code)
        self.assertEqual(reply["status"], "ok")
        displays = [m for m in outputs if m["msg_type"] == "display_data"]
        updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
        streams = [m for m in outputs if m["msg_type"] == "stream"]
        self.assertEqual(len(displays), 1, "one progress line")
        display_id = displays[0]["content"]["transient"]["display_id"]
        self.assertGreaterEqual(len(updates), 2)
        self.assertLessEqual(len(updates), 15, "updates are throttled (40 steps in ~2 s)")
        self.assertTrue(all(u["content"]["transient"]["display_id"] == display_id for u in updates))
        self.assertIn("40/40", updates[-1]["content"]["data"]["text/plain"])
        self.assertIn("<progress", updates[-1]["content"]["data"]["text/html"])
        self.assertEqual(streams, [], "no flood of lines")

    def test_show_returns_a_handle_not_an_output(self):
        reply, outputs = run(self.kc, 'var d = show("first"); d.update("second");')
        kinds = [m["msg_type"] for m in outputs if m["msg_type"] != "execute_input" and m["msg_type"] != "status"]
        self.assertEqual(kinds, ["display_data", "update_display_data"])
        reply, outputs = run(self.kc, 'display("only once");')
        self.assertEqual([m["msg_type"] for m in outputs if m["msg_type"] in ("display_data", "execute_result")],
                         ["display_data"], "a cell ending in display(x); does not also show the id")

    def test_ijava_documentation_display_cells_run_unchanged(self):
        # The examples of IJava's docs/display.md (the same in JJava's), as written there.
        reply, outputs = run(self.kc, 'display("<b>Bold</b>", "text/html", "text/markdown");')
        self.assertEqual(reply["status"], "ok", outputs)
        shown = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(shown[0]["text/html"], "<b>Bold</b>")
        self.assertIn("text/markdown", shown[0])
        self.assertIn("text/plain", shown[0])

        reply, outputs = run(self.kc, 'String md = "Hello from **IJava**";\n\nrender(md, "text/markdown")')
        self.assertEqual(reply["status"], "ok", outputs)
        result = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(result[0]["text/markdown"], "Hello from **IJava**")

        countdown = ('String id = display("<b>Countdown:</b> 3", "text/html");\n'
                     'for (int i = 3; i >= 0; i--) {\n'
                     '    updateDisplay(id, "<b>Countdown:</b> " + i, "text/html");\n'
                     '    Thread.sleep(1000L);\n'
                     '}\n'
                     'render("<b>Liftoff!</b>", "text/html")')
        reply, outputs = run(self.kc, countdown)
        self.assertEqual(reply["status"], "ok", outputs)
        displays = [m for m in outputs if m["msg_type"] == "display_data"]
        updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(displays), 1)
        display_id = displays[0]["content"]["transient"]["display_id"]
        self.assertEqual([u["content"]["data"]["text/html"] for u in updates],
                         ["<b>Countdown:</b> %d" % i for i in (3, 2, 1, 0)])
        self.assertTrue(all(u["content"]["transient"]["display_id"] == display_id for u in updates))
        result = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(result[0]["text/html"], "<b>Liftoff!</b>")

        reply, outputs = run(self.kc, 'id.length()')
        self.assertEqual(result_text(outputs), str(len(display_id)), "display returned the id as a String")

    def test_runtime_error_points_at_the_cell_line(self):
        reply, _ = run(self.kc, 'int half(int x) {\n  if (x % 2 != 0)\n    throw new IllegalArgumentException("odd: " + x);\n'
                                '  return x / 2;\n}')
        defined_in = reply["execution_count"]
        reply, outputs = run(self.kc, 'int ok = half(4);\nint bad = half(3);')
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "IllegalArgumentException")
        self.assertEqual(reply["evalue"], "odd: 3")
        tb = next(m for m in outputs if m["msg_type"] == "error")["content"]["traceback"]
        text = "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", line) for line in tb)
        self.assertIn("java.lang.IllegalArgumentException: odd: 3", text)
        self.assertIn("at half (cell %d, line 3)" % defined_in, text)
        self.assertIn("at cell %d, line 2" % reply["execution_count"], text)
        self.assertRegex(text, r"\.\.\. \d+ kernel frames")
        self.assertNotIn("$JShell$", text)
        self.assertNotIn("jdk.internal.reflect", text)

    def test_bad_magic_input_is_one_line_and_the_kernel_keeps_running(self):
        cases = {
            "%%loadFromPOM\n<dependency>\n  <groupId>org.example</groupId>\n</dependncy>\n": "not well-formed XML",
            "%mavenRepo snapshots": "unknown repository 'snapshots'",
            "%classpath /nonexistent/dir/missing.jar": "nothing matches",
            "%maven org.example.nosuch:nothing-here:0.0.1": "could not resolve org.example.nosuch:nothing-here:0.0.1",
        }
        for code, expected in cases.items():
            with self.subTest(code=code):
                reply, outputs = run(self.kc, code, timeout=180)
                self.assertEqual(reply["status"], "error", outputs)
                self.assertIn(expected, reply["evalue"])
                tb = next(m for m in outputs if m["msg_type"] == "error")["content"]["traceback"]
                self.assertEqual(len(tb), 1, tb)
                self.assertEqual(len(tb[0].splitlines()), 1, tb)
                reply, outputs = run(self.kc, "40 + 2")
                self.assertEqual(result_text(outputs), "42")

    def test_maven_repo_is_added(self):
        reply, outputs = run(self.kc, "%mavenRepo snap https://repo.example.org/snapshots/")
        self.assertEqual(reply["status"], "ok", outputs)
        reply, outputs = run(self.kc, "%mavenRepo snap")
        self.assertEqual(reply["status"], "ok", outputs)

    def test_classpath_jar_with_a_display_extension_is_loaded(self):
        jar = os.environ.get("RLCD4J_TEST_EXT_JAR")
        if not jar:
            self.skipTest("RLCD4J_TEST_EXT_JAR not set")
        reply, outputs = run(self.kc, "%classpath " + jar)
        self.assertEqual(reply["status"], "ok", outputs)
        printed = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("display extensions: rlcd4j.testext.GreetingExtension", printed)
        reply, outputs = run(self.kc, 'new rlcd4j.testext.Greeting("ext")')
        self.assertEqual(reply["status"], "ok", outputs)
        result = [m["content"]["data"] for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(result[0].get("text/html"), "<b>hello ext</b>", result)

    def test_history_comm_info_and_other_requests_get_replies(self):
        run(self.kc, "int histA = 1;")
        reply, _ = run(self.kc, "histA + 1")
        last = reply["execution_count"]
        self.kc.execute("int hidden = 3;", store_history=False)
        self.kc.get_shell_msg(timeout=30)
        msg_id = self.kc.history(hist_access_type="tail", n=2, output=True, raw=True)
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual([h[2] for h in reply["content"]["history"]], [["int histA = 1;", None], ["histA + 1", "2"]])
        session = reply["content"]["history"][-1][0]
        for s in (session, 0):
            self.kc.history(hist_access_type="range", session=s, start=last, stop=last + 1, output=False, raw=True)
            reply = self.kc.get_shell_msg(timeout=10)
            self.assertEqual(reply["content"]["history"], [[session, last, "histA + 1"]])
        self.kc.history(hist_access_type="search", pattern="histA*", unique=True, output=False, raw=True)
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual([h[2] for h in reply["content"]["history"]][-1], "histA + 1")

        msg_id = self.kc.comm_info()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["header"]["msg_type"], "comm_info_reply")
        self.assertEqual(reply["content"], {"status": "ok", "comms": {}})

        msg = self.kc.session.msg("connect_request", {})
        self.kc.shell_channel.send(msg)
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["header"]["msg_type"], "connect_reply")
        self.assertEqual(reply["content"]["shell_port"], self.km.shell_port)

        msg = self.kc.session.msg("debug_request", {"seq": 7, "type": "request", "command": "initialize", "arguments": {}})
        self.kc.control_channel.send(msg)
        reply = self.kc.get_control_msg(timeout=10)
        self.assertEqual(reply["header"]["msg_type"], "debug_reply")
        self.assertEqual(reply["content"]["request_seq"], 7)
        self.assertFalse(reply["content"]["success"])

        msg = self.kc.session.msg("create_subshell_request", {})
        self.kc.control_channel.send(msg)
        reply = self.kc.get_control_msg(timeout=10)
        self.assertEqual(reply["header"]["msg_type"], "create_subshell_reply")
        self.assertEqual(reply["content"]["status"], "error")

    def test_classpath_magic_adds_a_jar(self):
        jar = os.environ.get("RLCD4J_TEST_JAR")
        if not jar:
            self.skipTest("RLCD4J_TEST_JAR not set")
        reply, outputs = run(self.kc, "%classpath " + jar)
        self.assertEqual(reply["status"], "ok", outputs)
        cls = os.environ["RLCD4J_TEST_JAR_CLASS"]
        reply, outputs = run(self.kc, cls + ".class.getName()")
        self.assertEqual(reply["status"], "ok", outputs)
        self.assertIn(cls, result_text(outputs))

    def test_classpath_magic_reports_a_missing_jar(self):
        reply, outputs = run(self.kc, "%classpath /nonexistent/dir/*.jar")
        self.assertEqual(reply["status"], "error")
        self.assertIn("nothing matches", reply["evalue"])

    def test_inspect_and_complete_toolkit_names(self):
        msg_id = self.kc.inspect("Table.create", len("Table.create"))
        reply = self.kc.get_shell_msg(timeout=30)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertTrue(reply["content"]["found"])
        self.assertIn("create", reply["content"]["data"]["text/plain"])
        run(self.kc, "double lossValue = 0.5;")
        msg_id = self.kc.complete("lossV", 5)
        reply = self.kc.get_shell_msg(timeout=30)
        self.assertIn("lossValue", reply["content"]["matches"])


class Shutdown(unittest.TestCase):
    def test_shutdown_is_prompt(self):
        km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=60)
        run(kc, "1")
        pid = km.provisioner.process.pid if hasattr(km, "provisioner") and km.provisioner else km.kernel.pid
        t0 = time.time()
        kc.shutdown()
        proc = km.provisioner.process if hasattr(km, "provisioner") and km.provisioner else km.kernel
        while proc.poll() is None and time.time() - t0 < 30:
            time.sleep(0.05)
        took = time.time() - t0
        kc.stop_channels()
        km.cleanup_resources()
        self.assertIsNotNone(proc.poll(), "kernel process still running 30 s after shutdown_request")
        self.assertLess(took, 3.0, "kernel took %.2f s to exit after shutdown_request" % took)
        print("\nshutdown_request -> process exit: %.2f s (pid %d)" % (took, pid))


if __name__ == "__main__":
    unittest.main()
