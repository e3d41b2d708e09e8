"""`samenopvoeden run` as a real process against the sandbox: answers, then stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox import Sandbox

TOKEN = "123456:SANDBOX-TOKEN-FOR-A-REAL-PROCESS"


async def test_run_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with Sandbox(token=TOKEN, quiet_period=0.1) as sandbox:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": sandbox.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            stranger = sandbox.person(5, "Sanne")
            [reply] = await stranger.send("/start", timeout=30)
            assert "alleen meedoen met een uitnodiging" in reply.text
            assert sandbox.calls_to("setMyCommands")  # the menu was set at start
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = (await process.stdout.read()).decode() if process.stdout else ""
        assert code == 0, output
        assert (tmp_path / "run.db").exists()  # migrations were applied on SQLite
        assert sandbox.bot_errors == []
