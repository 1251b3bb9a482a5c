"""An aiosmtpd handler for the black-box tests: a Maildir sink that refuses some recipients.

    python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c picky_sink.PickyMailbox MAILDIR

with this directory on PYTHONPATH. Recipients whose local part starts with

- ``reject``   are refused permanently (550);
- ``tempfail`` are deferred (451) on their first attempt and accepted afterwards;

everything else is accepted and written to the Maildir, as ``aiosmtpd.handlers.Mailbox`` does.
"""

from aiosmtpd.handlers import Mailbox


class PickyMailbox(Mailbox):
    def __init__(self, mail_dir):
        super().__init__(mail_dir)
        self.deferred = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: recipient refused by the test sink" % address
        if local.startswith("tempfail") and address not in self.deferred:
            self.deferred.add(address)
            return "451 4.3.0 <%s>: greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
