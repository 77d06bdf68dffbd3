"""The Android demo's plain-Java core, compiled and tested with the JDK on this machine.

The Android app itself cannot be built here (no Android SDK, no Google Maven), so
everything in it that does not need Android lives in `android_demo/core` and is
checked here: `javac --release 11` (the language level the app's D8 step accepts
for minSdk 24) over main and test sources, then the `CoreTests` main() runner.
The static checks below cover what javac cannot see in the Kotlin app: string
and view ids it uses exist in its resources, and the core methods it calls exist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parent.parent / "android_demo"
CORE = DEMO / "core" / "src"
APP = DEMO / "app" / "src" / "main"
CORE_PACKAGE = "org.alberttf.demo.core"

needs_jdk = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="javac/java not found: install a JDK (Debian: apt-get install openjdk-17-jdk-headless)",
)


def compile_core(out_dir: str | os.PathLike, with_tests: bool = True) -> str:
    """Compile android_demo/core with javac into `out_dir`; returns the class path."""
    roots = [CORE / "main" / "java"] + ([CORE / "test" / "java"] if with_tests else [])
    sources = sorted(str(p) for root in roots for p in root.rglob("*.java"))
    assert sources, f"no Java sources under {CORE}"
    cmd = ["javac", "--release", "11", "-Xlint:all", "-Werror", "-encoding", "UTF-8"]
    proc = subprocess.run(
        [*cmd, "-d", str(out_dir), *sources], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"javac failed:\n{proc.stdout}\n{proc.stderr}"
    return str(out_dir)


def run_java(classpath: str, main: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["java", "-cp", classpath, main, *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def core_classes(tmp_path_factory):
    return compile_core(tmp_path_factory.mktemp("android-core"))


@needs_jdk
def test_core_tests_pass_under_the_jdk(core_classes):
    classes = core_classes
    proc = run_java(classes, f"{CORE_PACKAGE}.CoreTests")
    lines = proc.stdout.splitlines()
    failures = [line for line in lines if line.startswith("FAIL")]
    assert proc.returncode == 0 and not failures, proc.stdout + proc.stderr
    passed = [line for line in lines if line.startswith("PASS")]
    assert len(passed) >= 21, proc.stdout
    assert lines[-1] == f"{len(passed)} passed, 0 failed"


@needs_jdk
def test_core_test_runner_fails_loudly(core_classes):
    # A runner that cannot fail proves nothing: asking for a test that does not exist
    # runs none, which must count as a failure (exit status 1).
    proc = run_java(core_classes, f"{CORE_PACKAGE}.CoreTests", "no_such_test")
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout.strip().endswith("0 passed, 0 failed")


def test_core_main_sources_avoid_apis_missing_on_api_24():
    # java.nio.file arrived in API 26 and List.of/Map.of in API 30; the core runs on minSdk 24.
    banned = re.compile(r"java\.nio\.file|\bList\.of\(|\bMap\.of\(|\bSet\.of\(|\.readAllBytes\(")
    offenders = [
        f"{p.name}:{i}: {line.strip()}"
        for p in (CORE / "main" / "java").rglob("*.java")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if banned.search(line) and not line.strip().startswith(("*", "//", "/*"))
    ]
    assert not offenders, offenders


def _kotlin_sources() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (APP / "java").rglob("*.kt")}


def test_app_xml_files_are_well_formed():
    import xml.etree.ElementTree as ET

    android = "{http://schemas.android.com/apk/res/android}"
    files = [APP / "AndroidManifest.xml", *sorted((APP / "res").rglob("*.xml"))]
    assert len(files) >= 5
    for path in files:
        ET.parse(path)  # raises ParseError naming line and column
    manifest = ET.parse(APP / "AndroidManifest.xml").getroot()
    activity = manifest.find("application/activity")
    assert activity.get(f"{android}name") == ".MainActivity"
    assert activity.get(f"{android}exported") == "true"  # required for a launcher activity
    assert (APP / "java/org/alberttf/demo/MainActivity.kt").is_file()


def test_app_resources_cover_what_the_kotlin_code_uses():
    kotlin = "\n".join(_kotlin_sources().values())
    strings = set(re.findall(r'<string name="(\w+)"', (APP / "res/values/strings.xml").read_text()))
    used_strings = set(re.findall(r"\bR\.string\.(\w+)", kotlin))
    assert used_strings, "the app uses no string resources?"
    assert used_strings <= strings, f"missing in strings.xml: {used_strings - strings}"

    # View binding: ActivityMainBinding <- activity_main.xml, ItemScoreBinding <- item_score.xml.
    for layout, var in (("activity_main", "binding"), ("item_score", "item")):
        xml = (APP / "res/layout" / f"{layout}.xml").read_text()
        ids = set(re.findall(r'android:id="@\+id/(\w+)"', xml))
        used = set(re.findall(rf"\b{var}\.(\w+)\b", kotlin)) - {"root", "inflate"}
        assert used, f"nothing read from {layout}.xml"
        assert used <= ids, f"{layout}.xml lacks ids {used - ids}"


def test_app_calls_only_core_methods_that_exist():
    # javac compiles the core, but nothing here compiles the Kotlin that calls it; check
    # each static call `CoreClass.method(` and member call `.method(` on core results.
    public = {}
    for p in (CORE / "main" / "java").rglob("*.java"):
        public[p.stem] = set(
            re.findall(r"public\s+(?:static\s+)?[\w<>\[\], ?]+\s+(\w+)\(", p.read_text())
        )
    kotlin = _kotlin_sources()
    imported = set()
    for text in kotlin.values():
        imported |= set(re.findall(rf"import {re.escape(CORE_PACKAGE)}\.(\w+)", text))
    assert imported <= set(public), f"imports of missing core classes: {imported - set(public)}"
    for name, text in kotlin.items():
        for cls, method in re.findall(r"\b([A-Z]\w+)\.(\w+)\(", text):
            if cls in public:
                assert method in public[cls], f"{name}: {cls}.{method}() is not public in the core"
    # Members used on ScoreRow / BundleManifest / LatencyStats values in the app.
    member_calls = {
        "ScoreRow": ["label", "index", "valueText", "barLevel"],
        "BundleManifest": ["quantization", "maxLength", "task", "tokenizerKind"],
        "LatencyStats": ["recordNanos", "reset", "summary"],
    }
    joined = "\n".join(kotlin.values())
    for cls, methods in member_calls.items():
        for method in methods:
            assert f".{method}(" in joined, (
                f"app no longer calls {cls}.{method}(); update this test"
            )
            assert method in public[cls], f"{cls}.{method}() is not public in the core"


def test_copy_script_refuses_a_folder_without_a_bundle(tmp_path):
    proc = subprocess.run(
        [str(DEMO / "scripts" / "copy_bundle.sh"), str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        env={**os.environ, "ANDROID_ASSETS_DIR": str(tmp_path / "assets")},
        timeout=60,
    )
    assert proc.returncode == 1
    assert "model.tflite not found" in proc.stderr and "make demo" in proc.stderr
    assert not (tmp_path / "assets").exists()
