"""Parse the files the outbox writes, the way a person would read them."""
import json
import os
from email import policy
from email.parser import BytesParser


def read_outbox(directory):
    if not os.path.isdir(directory):
        return []
    messages = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".eml"):
            with open(path, "rb") as fh:
                mail = BytesParser(policy=policy.default).parse(fh)
            messages.append({"channel": "email", "to": mail["To"], "subject": mail["Subject"],
                             "body": mail.get_content(), "path": path})
        elif name.endswith(".json"):
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            messages.append({"channel": "sms", "to": data["to"], "subject": None,
                             "body": data["body"], "created_at": data["created_at"], "path": path})
    return messages
