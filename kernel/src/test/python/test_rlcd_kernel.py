"""Jupyter protocol conformance of the rlcd4j kernel, checked by jupyter_kernel_test (Debian's python3-jupyter-kernel-test).

Completion, display data and history (tail, range, search) are configured, so those checks run too.

Run: JUPYTER_PATH=<dir with kernels/rlcd-java> KERNEL_NAME=rlcd-java /usr/bin/python3 -Xfrozen_modules=off -m unittest -v test_rlcd_kernel
"""
import os
import unittest

import jupyter_kernel_test as jkt


class RlcdKernelTests(jkt.KernelTests):
    kernel_name = os.environ.get("KERNEL_NAME", "rlcd-java")
    language_name = "java"
    file_extension = ".jshell"

    code_hello_world = 'System.out.println("hello, world");'
    code_stderr = 'System.err.println("oops");'

    completion_samples = [
        {"text": "System.out.printl", "matches": {"println("}},
        {"text": "Math.sqr", "matches": {"sqrt("}},
        {"text": "%mav", "matches": {"maven", "mavenRepo"}},
    ]
    complete_code_samples = ["int a = 1;", "1 + 1", 'System.out.println("x");', "%classpath lib/*.jar"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "int f(int x) {", 'String s = "a" +']
    invalid_code_samples = ["int x = 1 +* 2;"]

    code_generate_error = 'throw new IllegalStateException("boom");'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "ab"},
        {"code": "int q = 5; q * 2", "result": "10"},
    ]

    code_display_data = [
        {"code": 'display("<b>hi</b>", "text/html");', "mime": "text/html"},
        {"code": "display(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB));", "mime": "image/png"},
        {"code": 'display(Table.create("t", IntColumn.create("a", 1, 2)));', "mime": "text/html"},
        {"code": 'display(QuickChart.getChart("c", "x", "y", "s", new double[]{1, 2}, new double[]{3, 4}));',
         "mime": "image/png"},
        {"code": 'display(QuickChart.getChart("c", "x", "y", "s", new double[]{1, 2}, new double[]{3, 4}), "image/svg+xml");',
         "mime": "image/svg+xml"},
    ]

    code_inspect_sample = "Math.abs"

    # history_request from the cells this kernel ran: the glob matches only "6 * 7" of code_execute_result
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "6 * 7"

    def test_error_names_the_real_exception(self):
        self.flush_channels()
        reply, output_msgs = self.execute_helper(code=self.code_generate_error)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "IllegalStateException")
        self.assertEqual(reply["content"]["evalue"], "boom")

    def test_kernel_info_has_status(self):
        self.flush_channels()
        msg_id = self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(reply["content"]["language_info"]["name"], "java")


if __name__ == "__main__":
    unittest.main()
