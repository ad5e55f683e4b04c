"""`yiwang hotline train|evaluate`: the routing classifier (智能分拨).

    yiwang hotline train --file tickets.csv [--model PATH]
    yiwang hotline evaluate --file labelled.csv [--model PATH]      # the trained model on unseen messages
    yiwang hotline evaluate --file labelled.csv --cross-validate 5  # k-fold, the saved model untouched

CSV files are UTF-8 with a header naming the columns `text` and `category`. Without --model
the model lives at YIWANG_VAR_DIR/hotline-model.joblib. `evaluate` ends with the lines
accuracy=…, macro_f1=…, auto_dispatch_share_at_97=…, threshold_at_97=….
"""

from django.core.management.base import BaseCommand, CommandError

from yiwang.hotline.routing import (
    RoutingError,
    route_classifier_cross_validate,
    route_classifier_evaluate,
    route_classifier_load,
    route_classifier_save,
    route_classifier_train,
    route_model_path,
    training_rows_read,
)


class Command(BaseCommand):
    help = "Hotline routing classifier: `hotline train --file CSV`, `hotline evaluate --file CSV`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["train", "evaluate"])
        parser.add_argument("--file", required=True, help="UTF-8 CSV with columns text, category")
        parser.add_argument(
            "--model", default=None, help="model file (default: VAR_DIR/hotline-model.joblib)"
        )
        parser.add_argument(
            "--cross-validate",
            type=int,
            default=0,
            metavar="K",
            help="evaluate: stratified K-fold cross-validation on the file instead of the saved model",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed of the folds")

    def handle(self, *args, **options):
        try:
            texts, categories = training_rows_read(options["file"])
            if options["action"] == "train":
                self._train(texts, categories, options)
            else:
                self._evaluate(texts, categories, options)
        except RoutingError as error:
            raise CommandError(str(error)) from error

    def _train(self, texts, categories, options):
        classifier = route_classifier_train(texts=texts, categories=categories, seed=options["seed"])
        path = route_classifier_save(classifier, options["model"])
        self.stdout.write(
            f"trained on {classifier.trained_messages} messages, {len(classifier.categories)} categories; "
            f"auto-dispatch threshold {classifier.threshold:.4f}; model written to {path}"
        )

    def _evaluate(self, texts, categories, options):
        folds = options["cross_validate"]
        if folds:
            if folds < 2:
                raise CommandError("--cross-validate needs at least 2 folds")
            self.stdout.write(f"stratified {folds}-fold cross-validation, seed {options['seed']}")
            evaluation = route_classifier_cross_validate(
                texts=texts, categories=categories, folds=folds, seed=options["seed"]
            )
        else:
            classifier = route_classifier_load(options["model"])
            if not classifier.trained:
                path = options["model"] or route_model_path()
                raise CommandError(f"no trained model at {path}: run `yiwang hotline train --file CSV` first")
            self.stdout.write(
                f"model trained on {classifier.trained_messages} messages at {classifier.trained_at}; "
                f"its auto-dispatch threshold is {classifier.threshold:.4f}"
            )
            evaluation = route_classifier_evaluate(classifier=classifier, texts=texts, categories=categories)
        self.stdout.write("\n".join(evaluation.lines()))
