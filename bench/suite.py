"""Where the test suite's time goes: the CPU the whole machine spends on it. Each named test runs alone
(`pytest -n 0`), then (with --suite) the full suite as the README runs it; for each, the wall time and the busy
core-seconds of every process on the machine meanwhile (Ray's daemons and actors, Chromium, subprocesses), read from
/proc/stat. On a machine with C cores and nothing else running, a run that keeps them busy takes no less than its
core-seconds / C. Linux only; run it on a quiet machine. Run: python bench/suite.py [--suite] [--only NAME ...]"""
import argparse, os, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1', TOKENIZERS_PARALLELISM='false', CI='true')
NB = 'tests/test_notebooks.py::test_notebook[{}]'
TESTS = {   # the longest tests of `pytest --durations=0`, one file or test each
    'Ray: test_scale.py (three CLI runs on one Ray, the other engines)': 'tests/test_scale.py',
    'Ray: 06c_engines notebook': NB.format('06c_engines.ipynb'),
    'Ray: 06d_audit notebook': NB.format('06d_audit.ipynb'),
    'site: build and read every page in Chromium': 'tests/test_site.py',
    'JupyterLab and the report in Chromium: test_browser.py': 'tests/test_browser.py',
    'models: 01_models notebook': NB.format('01_models.ipynb'),
    'training: masking_finetune tutorial': NB.format('tutorials/masking_finetune.ipynb'),
    'healing: token_healing tutorial': NB.format('tutorials/token_healing.ipynb'),
    'healing: 04_healing notebook': NB.format('04_healing.ipynb'),
    'command line: 07_cli notebook': NB.format('07_cli.ipynb'),
    'command line: test_cli.py': 'tests/test_cli.py',
    'hostile sources: test_sources_hostile.py': 'tests/test_sources_hostile.py',
    '43 families: test_all_families': 'tests/test_serving_truth.py::test_all_families',
    'templates: test_templates.py': 'tests/test_templates.py',
}

def busy()->float:
    "Core-seconds the machine has spent busy since boot (user, nice, system, irq, softirq)."
    with open('/proc/stat') as f: f = f.readline().split()
    return sum(int(f[k]) for k in (1, 2, 3, 6, 7)) / os.sysconf('SC_CLK_TCK')

def measure(args:list)->tuple:
    "Wall seconds and machine busy core-seconds of `python -m pytest ARGS`, and its exit status."
    b, t = busy(), time.perf_counter()
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *args], cwd=ROOT, env=ENV,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, busy() - b, r.returncode

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--suite', action='store_true', help='also the full suite')
    ap.add_argument('--only', nargs='*', help='names (or parts of names) of the tests to run')
    a = ap.parse_args()
    chosen = {n: t for n, t in TESTS.items() if not a.only or any(o in n for o in a.only)}
    if not chosen: ap.error(f"--only {' '.join(a.only)}: no test's name has that in it; the names:\n  "
                            + '\n  '.join(TESTS))
    idle = busy(); time.sleep(2); idle = (busy() - idle) / 2
    print(f"{os.cpu_count()} CPUs; busy before starting: {idle:.2f} cores (nothing else should run)")
    print(f"{'wall s':>7} {'core-s':>7}  test (alone, pytest -n 0, its start-up included)")
    total = 0
    for name, target in chosen.items():
        wall, cpu, rc = measure(['-n', '0', target])
        total += cpu
        print(f"{wall:7.1f} {cpu:7.1f}  {name}" + ('' if rc == 0 else f'  (exit {rc})'), flush=True)
    print(f"{'':7} {total:7.1f}  the tests above")
    if a.suite:
        wall, cpu, rc = measure([])
        print(f"{wall:7.1f} {cpu:7.1f}  the full suite, `pytest` (pytest.ini's workers)"
              + ('' if rc == 0 else f'  (exit {rc})'))
        print(f"   {cpu / wall:.2f} of {os.cpu_count()} cores busy on average: this run's work, spread evenly over"
              f" every core, would still take {cpu / os.cpu_count():.0f} s")
