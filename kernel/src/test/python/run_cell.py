"""Starts the kernel KERNEL_NAME (found through JUPYTER_PATH) in the working folder, runs the cell in the file
argv[1], prints its stdout/stderr/results and errors, and exits 0 only when the cell's reply says ok."""
import os
import sys

from jupyter_client.manager import start_new_kernel


def main():
    code = open(sys.argv[1], encoding="utf-8").read()
    km, kc = start_new_kernel(kernel_name=os.environ["KERNEL_NAME"], cwd=os.getcwd(), startup_timeout=120)
    try:
        def hook(msg):
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                sys.stdout.write(c["text"])
            elif t in ("execute_result", "display_data"):
                print("RESULT", c["data"].get("text/plain", ""))
            elif t == "error":
                print("ERROR", c["ename"], c["evalue"], "\n".join(c["traceback"]))
        reply = kc.execute_interactive(code, timeout=300, output_hook=hook)
        status = reply["content"]["status"]
        print("STATUS", status)
        return 0 if status == "ok" else 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    sys.exit(main())
