"""Contact rules: when and whether the portal may message a cardholder (quiet hours, caps,
opt-outs, collection holds), and the cardholder's own contact preferences."""
