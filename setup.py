"""Build hook: bundle the dashboard's 3D avatar (web/ -> bridge/dashboard/static/) before the
Python files are packaged, as JupyterLab extensions do. Runs for `pip install .`, wheels and
`pip install -e .` (editable installs run build_py too). Without Node.js/npm the package still
builds, with a warning, and the dashboard shows its 2D view and says how to get the 3D one.
Everything else about the package is in pyproject.toml."""
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB = Path(__file__).resolve().parent / "web"


class BuildPyWithAvatar(build_py):
    def run(self):
        self._bundle_avatar()
        super().run()

    def _bundle_avatar(self):
        npm, node = shutil.which("npm"), shutil.which("node")
        if not (WEB / "build.mjs").exists():
            self.warn("no web/ folder (building from an sdist?): the dashboard's 3D avatar is not bundled")
            return
        if not (npm and node):
            self.warn("Node.js/npm not found: the dashboard's 3D avatar is not bundled (2D view only); "
                      "install Node.js with npm and reinstall avatar-bridge to get it")
            return
        try:
            if not (WEB / "node_modules").is_dir():
                subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
            subprocess.run([node, "build.mjs"], cwd=WEB, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            self.warn(f"bundling the dashboard's 3D avatar failed ({e}): 2D view only; "
                      "fix npm (`cd web && npm ci && node build.mjs` shows why) and reinstall")


setup(cmdclass={"build_py": BuildPyWithAvatar})
