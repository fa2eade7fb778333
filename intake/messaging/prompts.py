"""Every text the SMS conversation sends, and the keywords it understands, for translators.

Each prompt must fit one GSM-7 segment (160 characters) in GSM-7 languages and two UCS-2
segments (134 characters) elsewhere; tests count every prompt in every catalog. Keywords
are accepted in the conversation's language and always in English.
"""

from __future__ import annotations

from flask_babel import lazy_pgettext

# Prompts. Context "sms" tells translators: short, plain, counted in SMS segments.
WELCOME = lazy_pgettext(
    "sms", "Worker Voice: tell us about a problem at work in secret. Send the code on the "
    "poster or the factory name. 0 = other language")
# The workplace question alone: asked in the language the worker has just chosen.
WORKPLACE = lazy_pgettext("sms", "Send the code on the poster or the factory name.")
WORKPLACE_AGAIN = lazy_pgettext(
    "sms", "We could not find that workplace. Send the code on the poster, or the factory "
    "name.")
CONFIRM_WORKPLACE = lazy_pgettext("sms", "Is it %(name)s? Reply 1 for yes, 2 for no.")
CATEGORY_MENU = lazy_pgettext(
    "sms", "What happened? Reply a number: 1 Pay 2 Hours 3 Safety 4 Forced work 5 Abuse "
    "6 Unfair treatment 7 Union 8 Punished 9 Housing 10 Children 11 Other")
DETAILS = lazy_pgettext(
    "sms", "Tell us what happened. You can send many messages. Do not send your name. "
    "When you finish, send DONE or #")
# After the category menu, when the worker's first message held words beside the poster
# code: those words are kept already (the first part of the report).
DETAILS_MORE = lazy_pgettext(
    "sms", "We have your first message. You can send more. Do not send your name. When you "
    "finish, send DONE or #")
CONSENT = lazy_pgettext(
    "sms", "Thank you. May we text you back on this number? Reply 1 for yes, 2 for no.")
RECEIPT = lazy_pgettext(
    "sms", "Sent. Your secret receipt: %(receipt)s. Keep it. To see answers, text "
    "STATUS and the receipt.")
HELP = lazy_pgettext(
    "sms", "Worker Voice helps workers report problems in secret. Send your factory code to "
    "start. STATUS + receipt: answers. STOP: no more texts.")
STOPPED = lazy_pgettext(
    "sms", "You will get no more texts from us. Your number was deleted. Send START to "
    "begin again.")
STARTED = lazy_pgettext("sms", "Welcome back. Send the code on the poster or the factory name.")
STATUS_NONE = lazy_pgettext("sms", "No answer yet. Please ask again in a few days.")
STATUS_REPLY = lazy_pgettext("sms", "Answer: %(text)s")
STATUS_NOT_FOUND = lazy_pgettext(
    "sms", "We could not find that receipt. Check the 16 digits and try again.")
PICTURES = lazy_pgettext(  # a photo, a WhatsApp voice note, a video or a document
    "sms", "Pictures, voice messages and files are not kept, to protect you. Please write in "
    "words what happened.")
TOO_LONG = lazy_pgettext(
    "sms", "That message was too long and was not kept. Please send it in shorter parts.")
LANGUAGE_MORE = lazy_pgettext("sms", "9 more")
# Words that came for a report retention deleted meanwhile (its time was up): the worker is
# told they were not kept, and the next message begins a new report.
REPORT_GONE = lazy_pgettext(
    "sms", "Your report is no longer kept, so this message was not added. To report again, "
    "send the code on the poster or the factory name.")
# The same for an answer to "was the problem fixed?" (a verdict is an answer, not words).
VERDICT_GONE = lazy_pgettext(
    "sms", "Your report is no longer kept, so your answer was not saved. To report again, "
    "send the code on the poster or the factory name.")
UNAVAILABLE = lazy_pgettext(
    "sms", "Sorry, we cannot take reports at this moment. Please try again later.")

# The worker's verdict when the desk proposes to close a case (issue 8, item 7).
VERDICT_QUESTION = lazy_pgettext(
    "sms", "Was the problem at %(name)s fixed? Reply 1 yes, 2 partly, 3 no. You can add a "
    "comment after the number.")
VERDICT_THANKS = lazy_pgettext("sms", "Thank you. Your answer was saved.")
# Words a worker sends after a text from the desk are added to that report (the desk
# often asks a question); NEW is the keyword below, in the same language.
ANSWER_ADDED = lazy_pgettext(
    "sms", "Thank you. We added this to your report. To report a new problem, send NEW.")

# Keywords: the translation is the word in that language (one word, capital letters
# where the script has them). English always works too.
DONE = lazy_pgettext("sms keyword", "DONE")
STATUS = lazy_pgettext("sms keyword", "STATUS")
STOP = lazy_pgettext("sms keyword", "STOP")
START = lazy_pgettext("sms keyword", "START")
HELP_WORD = lazy_pgettext("sms keyword", "HELP")
RESTART = lazy_pgettext("sms keyword", "NEW")

# Answers in words to the two yes-or-no questions (CONFIRM_WORKPLACE and CONSENT), taken as 1
# and 2: the words a worker may answer with, separated by "|", at least the ones those two
# questions use ("1 for yes"), with the short forms people text. The conversation's
# language's words count, and English's.
YES_WORDS = lazy_pgettext("sms answer", "YES|Y|OK")
NO_WORDS = lazy_pgettext("sms answer", "NO|N")
