"""The Slack adapter: slash command, buttons, reactions and digest threads over slack-bolt.

- `app`: the bolt app factory, the error hook, and `serve` (Socket Mode or HTTP mode);
- `blocks`: Block Kit rendering within Slack's limits;
- `poster`: `SlackPoster`, the delivery engine's `ThreadPoster` for Slack;
- `admins`: workspace owners/admins from `users.info`, cached briefly;
- `approval`: `SlackApprovalNotifier`, which posts a draft for approval (the click is in `app`);
- `manifest.yml`: the app manifest to create the Slack app with.

The core never imports this package; it only sees `Invocation`s, `Command`s and the poster port.
"""
